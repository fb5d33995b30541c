package org.dealbridge.schemas.registry;

/** A registry refused or failed a request; {@link #errorCode()} is the registry's error code when it gave one (e.g. 40401, 409, 42201). */
public class SchemaRegistryException extends RuntimeException {
    private final int errorCode;

    public SchemaRegistryException(String message, int errorCode) {
        super(message);
        this.errorCode = errorCode;
    }

    public SchemaRegistryException(String message, int errorCode, Throwable cause) {
        super(message, cause);
        this.errorCode = errorCode;
    }

    public int errorCode() {
        return errorCode;
    }
}

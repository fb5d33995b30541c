package org.dealbridge.schemas.registry;

/**
 * A registry refused or failed a request; {@link #errorCode()} is the registry's error code when it gave one
 * (e.g. 40401, 409, 42201), else the HTTP status, else {@link #NO_CODE}.
 */
public class SchemaRegistryException extends RuntimeException {
    /** No registry answer to take a code from (connection failed, unreadable answer...). */
    public static final int NO_CODE = 0;
    /** Confluent error code: the subject does not exist. */
    public static final int SUBJECT_NOT_FOUND = 40401;
    /** Confluent error code: the subject has no such version. */
    public static final int VERSION_NOT_FOUND = 40402;
    /** Confluent error code: no schema has this id. */
    public static final int SCHEMA_NOT_FOUND = 40403;
    /** Confluent error code (and HTTP status): the schema breaks the subject's compatibility rule. */
    public static final int INCOMPATIBLE = 409;
    /** Confluent error code: the schema is not valid (or not of the declared type). */
    public static final int INVALID_SCHEMA = 42201;

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

package org.dealbridge.app.runtime;

/** The state of one part of DealBridge, as /health reports it. */
public record Health(Status status, String detail) {

    public enum Status {
        /** Working. */
        UP,
        /** Working with trouble, e.g. the CRM answers 503 and writes wait; the data is safe in Kafka. */
        DEGRADED,
        /** Not working: DealBridge as a whole is not healthy. */
        DOWN,
        /** Not configured: reported, but it does not make DealBridge unhealthy. */
        NOT_CONFIGURED
    }

    public static Health up(String detail) {
        return new Health(Status.UP, detail);
    }

    public static Health down(String detail) {
        return new Health(Status.DOWN, detail);
    }

    public static Health degraded(String detail) {
        return new Health(Status.DEGRADED, detail);
    }

    public static Health notConfigured(String detail) {
        return new Health(Status.NOT_CONFIGURED, detail);
    }
}

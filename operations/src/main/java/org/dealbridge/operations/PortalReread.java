package org.dealbridge.operations;

/**
 * Reads a record again from its portal, for the replay of a dead letter that an ingestion could not read: such a letter
 * keeps only its source topic and the record's id (an order's {@code s1:5001}, or {@code 5001} when its site was not
 * known yet), because no record was ever made. Once the cause is fixed, a replay reads the record now and publishes it
 * as the ingestion would have; the launcher supplies one per topic it can read for (the store's {@code order-changes}).
 */
@FunctionalInterface
public interface PortalReread {

    /** The record as the ingestion publishes it: its key and its value in the topic's wire format. */
    record Reread(String key, byte[] value) {
    }

    /**
     * @param key the dead letter's key
     * @throws Exception when the portal still cannot give the record; the message says why, and the letter stays
     */
    Reread read(String key) throws Exception;
}

package org.dealbridge.connector;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * One command's result with the record it answers: its dead letter names that record's topic, partition and offset.
 * A command folded from several records answers the last of them.
 */
public record Executed<C, R extends CommandResult<C>>(ConsumerRecord<String, C> source, R result) {
}

package org.dealbridge.connector;

import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * One command's result with the record it answers: its dead letter names that record's topic, partition and offset.
 * A command folded from several records answers the last of them.
 *
 * @param firstOffset the offset of the first record of the source's partition the command was folded from: when the
 *                    command waits for its side ({@link CommandResult#unreachable()}), its partition is read again
 *                    from there, so no folded record is committed without its command
 */
public record Executed<C, R extends CommandResult<C>>(ConsumerRecord<String, C> source, R result, long firstOffset) {

    /** A command executed from one record. */
    public Executed(ConsumerRecord<String, C> source, R result) {
        this(source, result, source.offset());
    }

    public Executed {
        if (firstOffset > source.offset()) {
            throw new IllegalArgumentException("firstOffset " + firstOffset + " is after the source record's offset " + source.offset());
        }
    }
}

package org.dealbridge.dealevents;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.dealbridge.schemas.ChangeSource;
import org.dealbridge.schemas.DealChanged;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.Topics;

/**
 * Publishes deal changes to {@code deal-changes} (key the deal id) and waits for the broker's acknowledgement, so a
 * caller may advance a cursor afterwards. Counts {@code dealbridge.events.in{source=crm_hook|crm_poll}}.
 */
public final class DealPublisher {

    public static final String EVENTS_METRIC = "dealbridge.events.in";

    private final Producer<String, DealChanged> producer;
    private final String topic;
    private final MeterRegistry meters;

    /** Publishes to {@link Topics#DEAL_CHANGES}. */
    public DealPublisher(Producer<String, DealChanged> producer, MeterRegistry meters) {
        this(producer, Topics.DEAL_CHANGES, meters);
    }

    public DealPublisher(Producer<String, DealChanged> producer, String topic, MeterRegistry meters) {
        this.producer = producer;
        this.topic = topic;
        this.meters = meters;
    }

    /** Where the ingestion side's meters go. */
    public MeterRegistry meters() {
        return meters;
    }

    /** Sends and waits until every record is acknowledged. */
    public void publish(List<DealChanged> deals) throws InterruptedException {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (DealChanged deal : deals) {
            sent.add(producer.send(new ProducerRecord<>(topic, Keys.deal(deal.getDealId()), deal)));
        }
        for (Future<RecordMetadata> f : sent) {
            try {
                f.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("publishing to " + topic + " failed: " + e.getCause(), e.getCause());
            }
        }
        for (DealChanged deal : deals) {
            Counter.builder(EVENTS_METRIC).tag("source", tag(deal.getCause().getSource())).register(meters).increment();
        }
    }

    static String tag(ChangeSource source) {
        return switch (source) {
            case CRM_HOOK -> "crm_hook";
            case CRM_POLL -> "crm_poll";
            default -> source.name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}

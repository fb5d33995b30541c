package org.dealbridge.ingestion;

import java.time.Duration;
import org.dealbridge.schemas.KafkaClients;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which instance of an installation runs one side's pollers: Kafka's own group membership, no lock service of ours.
 * Every instance joins the consumer group {@code groupId} on the one-partition topic {@code poller-leadership} (which
 * holds no records); the member assigned partition 0 leads. When it leaves, or stops heartbeating (a SIGKILL), the
 * group rebalances and partition 0 moves to another member, which becomes the leader. So at most one instance runs the
 * pollers at a time, with the usual caveat of group membership: a leader cut off from the coordinator keeps running
 * until it notices (at most one session timeout), which is harmless here (a poller repeats only full-state events, and a
 * cursor it stores late only makes the next round re-read).
 *
 * <p>The session timeout is short ({@link #DEFAULT_SESSION_TIMEOUT}, the broker's minimum is 6 s by default), so a
 * killed leader is replaced within about that plus one heartbeat; nothing else happens on this consumer's thread, so a
 * short session costs nothing.
 */
public final class PollerLeadership implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PollerLeadership.class);
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(10);

    /**
     * Told on the leadership thread, {@link #elected()} in the order added and {@link #deposed()} in reverse (what
     * was set up first is taken down last); {@link #deposed()} must return only once the pollers have stopped.
     */
    public interface Listener {
        void elected();

        void deposed();
    }

    private final Map<String, Object> consumerConfig;
    private final String topic;
    private final String groupId;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean running = true;
    private volatile boolean leads;
    private volatile KafkaConsumer<byte[], byte[]> consumer;
    private Thread thread;

    /**
     * @param clientConfig at least {@code bootstrap.servers}
     * @param topic        the one-partition topic competed for ({@code poller-leadership})
     * @param groupId      one per side, e.g. {@code dealbridge-store-pollers}
     */
    public PollerLeadership(Map<String, Object> clientConfig, String topic, String groupId, Duration sessionTimeout) {
        this.topic = Objects.requireNonNull(topic, "topic");
        this.groupId = Objects.requireNonNull(groupId, "groupId");
        this.consumerConfig = new HashMap<>(clientConfig);
        consumerConfig.remove(ProducerConfig.CLIENT_ID_CONFIG);
        consumerConfig.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerConfig.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        consumerConfig.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) sessionTimeout.toMillis());
        consumerConfig.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(500, sessionTimeout.toMillis() / 5));
    }

    /** Adds a listener; add them all before {@link #start()}. */
    public PollerLeadership addListener(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /** True while this instance leads (owns partition 0). */
    public boolean leads() {
        return leads;
    }

    public String groupId() {
        return groupId;
    }

    /** Joins the group on a daemon thread of its own. */
    public synchronized void start() {
        if (thread != null) {
            throw new IllegalStateException("leadership " + groupId + " already started");
        }
        thread = new Thread(this::run, "leadership-" + groupId);
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (running) {
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(KafkaClients.consumer(consumerConfig), new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                consumer = c;
                c.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                    @Override
                    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                        if (!partitions.isEmpty()) {
                            elect();
                        }
                    }

                    @Override
                    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                        if (!partitions.isEmpty()) {
                            depose();
                        }
                    }
                });
                while (running) {
                    c.poll(Duration.ofSeconds(1));  // the topic has no records: polling is how the membership is kept
                }
            } catch (WakeupException e) {
                // close()
            } catch (KafkaException e) {
                log.error("leadership {}: the group consumer failed; joining again in 5 s: {}", groupId, e.toString());
                depose();
                sleepUnlessClosed(Duration.ofSeconds(5));
            } finally {
                consumer = null;
            }
        }
        depose();
    }

    private void elect() {
        if (!leads) {
            leads = true;
            log.info("this instance now runs the pollers of group {} (it owns {}-0)", groupId, topic);
            listeners.forEach(Listener::elected);
        }
    }

    private void depose() {
        if (leads) {
            leads = false;
            log.info("this instance no longer runs the pollers of group {}", groupId);
            for (int i = listeners.size() - 1; i >= 0; i--) {
                listeners.get(i).deposed();
            }
        }
    }

    private void sleepUnlessClosed(Duration duration) {
        long until = System.nanoTime() + duration.toNanos();
        while (running && System.nanoTime() < until) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Stops the pollers (if this instance leads) and leaves the group, so another member takes over at once. */
    @Override
    public void close() {
        running = false;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            try {
                t.join(Duration.ofSeconds(60).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

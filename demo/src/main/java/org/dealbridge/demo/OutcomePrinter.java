package org.dealbridge.demo;

import java.io.PrintStream;
import org.dealbridge.schemas.KafkaClients;
import java.time.Duration;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.dealbridge.schemas.SyncOutcome;
import org.dealbridge.schemas.Topics;

/** Prints every sync outcome DealBridge records from now on: what it decided for which order or deal, and why. */
final class OutcomePrinter implements AutoCloseable {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

    private final KafkaConsumer<String, SyncOutcome> consumer;
    private final PrintStream out;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger count = new AtomicInteger();
    private final Thread thread;
    private final java.util.Set<String> unchangedSeen = new java.util.HashSet<>();

    private OutcomePrinter(Properties client, Topics topics, PrintStream out) {
        Properties p = new Properties();
        p.putAll(client);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "dealbridge-demo-outcomes");
        this.consumer = new KafkaConsumer<>(KafkaClients.consumer(p), topics.syncOutcomes().keySerde().deserializer(), topics.syncOutcomes().valueSerde().deserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topics.syncOutcomes().name()).stream()
                .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions); // only this run's story, not earlier runs' in the same ./data
        partitions.forEach(consumer::position);
        this.out = out;
        this.thread = new Thread(this::loop, "dealbridge-demo-outcomes");
        thread.setDaemon(true);
    }

    static OutcomePrinter start(Properties client, Topics topics, PrintStream out) {
        OutcomePrinter printer = new OutcomePrinter(client, topics, out);
        printer.thread.start();
        return printer;
    }

    private void loop() {
        while (running.get()) {
            try {
                for (ConsumerRecord<String, SyncOutcome> r : consumer.poll(Duration.ofMillis(300))) {
                    SyncOutcome o = r.value();
                    if (o == null) {
                        continue;
                    }
                    // the poller's overlap re-reads recent orders: say "nothing to do" once per order or deal
                    if (o.getOutcome() == org.dealbridge.schemas.Outcome.UNCHANGED && !unchangedSeen.add(r.key())) {
                        continue;
                    }
                    count.incrementAndGet();
                    String who = o.getSiteId() != null && o.getOrderId() != null ? "order " + o.getSiteId() + ":" + o.getOrderId() : "";
                    String deal = o.getDealId() != null ? "deal " + o.getDealId() : "";
                    out.printf("  %s  DealBridge  %-13s %-24s %-16s %s%n", TIME.format(o.getAt()),
                            o.getDirection() == org.dealbridge.schemas.SyncDirection.ORDER_TO_DEAL ? "order → deal" : "deal → order",
                            o.getOutcome(), (who + " " + deal).trim(), o.getReason());
                }
            } catch (org.apache.kafka.common.errors.WakeupException e) {
                return;
            } catch (RuntimeException e) {
                out.println("  (cannot read sync outcomes: " + e.getMessage() + ")");
                return;
            }
        }
    }

    int count() {
        return count.get();
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        consumer.wakeup();
        thread.join(3000);
        consumer.close(Duration.ofSeconds(2));
    }
}

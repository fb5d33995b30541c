package org.dealbridge.app.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.dealbridge.schemas.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Creates every topic of an installation ({@link Topics#definitions(String)}) that does not exist yet, with its explicit configs. */
public final class KafkaTopicsSetup {
    private static final Logger log = LoggerFactory.getLogger(KafkaTopicsSetup.class);

    private KafkaTopicsSetup() {
    }

    public static void ensureTopics(Admin admin, List<Topics.Definition> definitions, int partitions, short replication) {
        try {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (Topics.Definition d : definitions) {
                if (!existing.contains(d.name())) {
                    missing.add(new NewTopic(d.name(), d.singlePartition() ? 1 : partitions, replication).configs(d.configs()));
                }
            }
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(60, TimeUnit.SECONDS);
                log.info("created topics {}", missing.stream().map(NewTopic::name).toList());
            }
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException) {
                return; // another instance created it meanwhile
            }
            throw new IllegalStateException("cannot create DealBridge's topics: " + e.getCause().getMessage(), e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException("cannot create DealBridge's topics: " + e.getMessage(), e);
        }
    }
}

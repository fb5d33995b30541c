package org.dealbridge.mapping;

import java.time.Clock;
import org.dealbridge.schemas.KafkaClients;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.dealbridge.schemas.MappingProfile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes mapping documents: validates, numbers the version (one above the highest the site ever had), diffs
 * against the version in force, and writes the history record and then the current record. Never writes an
 * invalid document.
 */
public final class MappingPublisher {

    private static final Logger log = LoggerFactory.getLogger(MappingPublisher.class);
    private static final long SEND_TIMEOUT_SECONDS = 30;

    private final Properties clientProperties;
    private final MappingTopics topics;
    private final MappingTopicReader reader;
    private final Clock clock;

    public MappingPublisher(Properties clientProperties, MappingTopics topics, Clock clock) {
        this.clientProperties = clientProperties;
        this.topics = topics;
        this.reader = new MappingTopicReader(clientProperties, topics);
        this.clock = clock;
    }

    /**
     * What a publish did (or, on a dry run, would do).
     *
     * @param previous the version in force before, if any
     * @param profile  the version published (or that would be)
     * @param diff     line diff from the previous document; empty when the text is unchanged
     * @param published false on a dry run and when the document is identical to the version in force
     */
    public record Publication(Optional<MappingProfile> previous, MappingProfile profile, List<String> diff,
                              boolean published) {

        public boolean unchanged() {
            return previous.isPresent() && previous.get().getContentHash().equals(profile.getContentHash());
        }
    }

    /**
     * Validates the document (offline, then {@code check}) and publishes it as the site's next version.
     *
     * @throws MappingInvalidException with every error, before anything is written
     */
    public Publication publish(String yaml, String author, boolean dryRun, DocumentCheck check) {
        List<MappingError> errors = new ArrayList<>(MappingValidator.validate(yaml));
        MappingDocument document = errors.isEmpty() ? MappingDocument.parse(yaml) : null;
        if (document != null) {
            errors.addAll(check.check(document));
        }
        if (!errors.isEmpty()) {
            throw new MappingInvalidException(errors);
        }
        String site = document.site();
        Optional<MappingProfile> previous = reader.latest(site);
        long highestInHistory = reader.history(site).stream().mapToLong(MappingProfile::getVersion).max().orElse(0);
        long version = Math.max(highestInHistory, previous.map(MappingProfile::getVersion).orElse(0L)) + 1;
        MappingProfile profile = MappingProfiles.build(site, yaml, version, author, clock.instant());
        List<String> diff = DocumentDiff.lines(previous.map(MappingProfile::getDocument).orElse(""), yaml);
        Publication plan = new Publication(previous, profile, diff, false);
        if (dryRun || plan.unchanged()) {
            return plan;
        }
        ensureTopics();
        send(List.of(
                new ProducerRecord<>(topics.history(), MappingTopics.historyKey(site, version), profile),
                new ProducerRecord<>(topics.current(), site, profile)));
        log.info("Published mapping of site {} version {} by {} (sha256 {})", site, version, author,
                profile.getContentHash());
        return new Publication(previous, profile, diff, true);
    }

    /** Republishes an old version's document as a new version (versions only ever grow). */
    public Publication rollback(String siteId, long toVersion, String author, boolean dryRun, DocumentCheck check) {
        List<MappingProfile> history = reader.history(siteId);
        MappingProfile target = history.stream().filter(p -> p.getVersion() == toVersion).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("site " + siteId + " has no version " + toVersion
                        + "; its versions: " + history.stream().map(MappingProfile::getVersion).toList()));
        return publish(target.getDocument(), author, dryRun, check);
    }

    /** Removes a site's mapping: a tombstone on the current topic; the projectors stop syncing the site. */
    public void withdraw(String siteId) {
        ensureTopics();
        send(List.of(new ProducerRecord<>(topics.current(), siteId, null)));
        log.warn("Withdrew the mapping of site {}: sync for it stops", siteId);
    }

    private void send(List<ProducerRecord<String, MappingProfile>> records) {
        Properties props = new Properties();
        props.putAll(clientProperties);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        try (KafkaProducer<String, MappingProfile> producer = new KafkaProducer<>(KafkaClients.producer(props),
                topics.keySerde().serializer(), topics.valueSerde().serializer())) {
            for (ProducerRecord<String, MappingProfile> record : records) {
                // One at a time: the history record must be durable before the current one points at its version.
                producer.send(record).get(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            }
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("publishing to " + topics.current() + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing", e);
        }
    }

    /** Creates both topics when missing (compacted, one partition, the broker's default replication). */
    private void ensureTopics() {
        try (Admin admin = Admin.create(KafkaClients.admin(clientProperties))) {
            for (String name : List.of(topics.current(), topics.history())) {
                try {
                    admin.createTopics(List.of(new NewTopic(name, Optional.of(1), Optional.empty())
                            .configs(MappingTopics.topicConfigs()))).all().get(SEND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + name + ": " + e.getCause().getMessage(),
                                e.getCause());
                    }
                }
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("the broker did not answer while creating the mapping topics", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating the mapping topics", e);
        }
    }

    public MappingTopicReader reader() {
        return reader;
    }
}

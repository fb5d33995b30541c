package org.dealbridge.schemas;

import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.kstream.BranchedKStream;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;

/**
 * Where a projector's decisions go: a projector emits one stream of records of several types (commands, outcomes,
 * links, dead letters), and each type goes to its topic. Both projector topologies route their decisions here, with
 * the node names they have always had ({@code decision-command}, {@code as-deal-command}, {@code deal-commands-sink}).
 */
public final class DecisionSinks {

    private DecisionSinks() {
    }

    /** One record type and its topic; {@code branch} names the branch ({@code decision-{branch}}). */
    public record Sink<T extends SpecificRecord>(Class<T> type, Topics.Topic<String, T> topic, String branch) {
        public static <T extends SpecificRecord> Sink<T> of(Class<T> type, Topics.Topic<String, T> topic, String branch) {
            return new Sink<>(type, topic, branch);
        }

        private void addTo(BranchedKStream<String, SpecificRecord> split) {
            split.branch((key, value) -> type.isInstance(value), Branched.<String, SpecificRecord>withConsumer(records -> records
                    .mapValues(type::cast, Named.as("as-" + kebab(type.getSimpleName())))
                    .to(topic.name(), Produced.with(topic.keySerde(), topic.valueSerde()).withName(topic.name() + "-sink")))
                    .withName(branch));
        }
    }

    /** Routes each decision to the sink of its type; a decision of any other type is a programming error. */
    public static void route(KStream<String, SpecificRecord> decisions, List<Sink<?>> sinks) {
        BranchedKStream<String, SpecificRecord> split = decisions.split(Named.as("decision-"));
        sinks.forEach(sink -> sink.addTo(split));
        split.noDefaultBranch();
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }
}

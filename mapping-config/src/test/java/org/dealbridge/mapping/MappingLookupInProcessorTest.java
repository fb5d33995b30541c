package org.dealbridge.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;
import org.junit.jupiter.api.Test;

/** How a projector uses the table: a stream processor looks the mapping up per record. */
class MappingLookupInProcessorTest {

    @Test
    void processorSeesTheMappingInForce() throws Exception {
        InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
        MappingTopics topics = MappingTopics.of(registry);
        MappingTable table = new MappingTable(topics, new SimpleMeterRegistry());
        StreamsBuilder builder = new StreamsBuilder();
        table.addTo(builder);
        // key: site, value: order status -> value out: stage, or "skip" when not synced
        builder.stream("statuses", Consumed.with(Serdes.String(), Serdes.String()))
                .process(() -> new Processor<String, String, String, String>() {
                    private ProcessorContext<String, String> context;
                    private MappingLookup lookup;

                    @Override
                    public void init(ProcessorContext<String, String> context) {
                        this.context = context;
                        this.lookup = table.lookup(context);
                    }

                    @Override
                    public void process(Record<String, String> record) {
                        String stage = lookup.forSite(record.key())
                                .flatMap(m -> m.stageFor(m.pipelineFor(java.util.List.of()), record.value()))
                                .orElse("skip");
                        context.forward(record.withValue(stage));
                    }
                })
                .to("stages", Produced.with(Serdes.String(), Serdes.String()));
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "lookup-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("lookup-test").toString());
        try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props)) {
            TestInputTopic<String, MappingProfile> mapping = driver.createInputTopic(topics.current(),
                    topics.keySerde().serializer(), topics.valueSerde().serializer());
            TestInputTopic<String, String> statuses = driver.createInputTopic("statuses",
                    Serdes.String().serializer(), Serdes.String().serializer());
            TestOutputTopic<String, String> stages = driver.createOutputTopic("stages",
                    Serdes.String().deserializer(), Serdes.String().deserializer());

            statuses.pipeInput("s1", "F");
            mapping.pipeInput("s1", MappingTableTest.profile(MappingTableTest.V1, 1));
            statuses.pipeInput("s1", "F");
            statuses.pipeInput("s1", "N");
            mapping.pipeInput("s1", MappingTableTest.profile(MappingTableTest.V2, 2));
            statuses.pipeInput("s1", "F");
            assertThat(stages.readValuesToList()).containsExactly("skip", "skip", "NEW", "WON");
        }
    }
}

package org.dealbridge.mapping;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.dealbridge.schemas.BasketItem;
import org.dealbridge.schemas.MappingProfile;
import org.dealbridge.schemas.registry.InMemorySchemaRegistry;

/**
 * Prints what the per-record lookups cost (not a test: figures vary by machine, nothing is asserted).
 * Run: {@code java -cp <test classpath> org.dealbridge.mapping.MappingLookupBenchmark}.
 */
public final class MappingLookupBenchmark {

    public static void main(String[] args) throws Exception {
        StringBuilder doc = new StringBuilder("site: s1\npipelines:\n  default: 0\n  bySection:\n");
        for (int s = 1; s <= 200; s++) {
            doc.append("    - { section: ").append(s).append(", pipeline: ").append(s % 10).append(" }\n");
        }
        doc.append("stages:\n");
        for (int p = 0; p < 10; p++) {
            doc.append("  \"").append(p).append("\":\n");
            for (int i = 0; i < 20; i++) {
                doc.append("    - { stage: \"").append(p == 0 ? "" : "C" + p + ":").append("S").append(i)
                        .append("\", status: \"").append(i).append("\" }\n");
            }
        }
        doc.append("responsible: { default: 1 }\npayment: { default: 1 }\n");
        String yaml = doc.toString();

        long t0 = 0;
        int compiles = 200;
        CompiledMapping m = null;
        for (int round = 0; round < 2; round++) {  // the first round warms up
            t0 = System.nanoTime();
            for (int i = 0; i < compiles; i++) {
                m = CompiledMapping.compile(yaml, 1);
            }
        }
        System.out.printf("compile from YAML (200 sections, 10 pipelines x 20 pairs, %d bytes): %.0f us%n",
                yaml.length(), (System.nanoTime() - t0) / 1e3 / compiles);

        List<BasketItem> basket = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            basket.add(BasketItem.newBuilder().setProductId(i).setName("p").setPrice("19.99").setQuantity("2")
                    .setSectionPath(List.of(1000L + i, 500L + i, (long) (i * 17 % 200 + 1))).build());
        }
        int n = 2_000_000;
        long sink = 0;
        for (int round = 0; round < 2; round++) {  // the first round warms up
            t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                sink += m.stageFor(i % 10, Integer.toString(i % 20)).map(String::length).orElse(0);
            }
            double stageNs = (System.nanoTime() - t0) / (double) n;
            t0 = System.nanoTime();
            for (int i = 0; i < n / 10; i++) {
                sink += m.pipelineFor(basket);
            }
            double pipelineNs = (System.nanoTime() - t0) / (double) (n / 10);
            if (round == 1) {
                System.out.printf("stageFor: %.0f ns/call; pipelineFor (10 lines, 3-level paths): %.0f ns/call%n",
                        stageNs, pipelineNs);
            }
        }

        InMemorySchemaRegistry registry = new InMemorySchemaRegistry();
        MappingTopics topics = MappingTopics.of(registry);
        MappingTable table = new MappingTable(topics, new SimpleMeterRegistry());
        MappingProfile profile = MappingProfiles.build("s1", yaml, 1, "bench", Instant.now());
        byte[] stored = topics.valueSerde().serializer().serialize(topics.current(), profile);
        MappingLookup lookup = new MappingLookup(site -> stored.clone(), table);  // worst case: a copy per get
        for (int round = 0; round < 2; round++) {
            t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                sink += lookup.forSite("s1").orElseThrow().version();
            }
            if (round == 1) {
                System.out.printf("MappingLookup.forSite, cached (record %d bytes, incl. copying it): %.0f ns/call%n",
                        stored.length, (System.nanoTime() - t0) / (double) n);
            }
        }
        System.out.println("(sink " + sink + ")");
    }
}

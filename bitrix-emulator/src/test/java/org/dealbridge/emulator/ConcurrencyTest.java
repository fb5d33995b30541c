package org.dealbridge.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ConcurrencyTest {

    @Test
    void concurrentBatchesGetDistinctIdsAndLoseNoWrites() throws Exception {
        try (BitrixEmulator emu = BitrixEmulator.start(EmulatorOptions.defaults().rateLimitDisabled())) {
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<JsonNode>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    Map<String, Object> cmd = new LinkedHashMap<>();
                    for (int i = 0; i < 25; i++) {
                        cmd.put("a" + i, "crm.deal.add?fields[TITLE]=t" + thread + "-" + i);
                    }
                    return Rest.crm(emu, "batch", Map.of("cmd", cmd)).result().get("result");
                }));
            }
            Set<Long> ids = new HashSet<>();
            for (Future<JsonNode> f : futures) {
                f.get().forEach(id -> ids.add(id.asLong()));
            }
            pool.shutdown();
            assertThat(ids).hasSize(200);
            assertThat(emu.crm().deals()).hasSize(200);
        }
    }
}

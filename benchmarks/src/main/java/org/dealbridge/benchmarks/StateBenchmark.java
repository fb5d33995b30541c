package org.dealbridge.benchmarks;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.dealbridge.schemas.Keys;
import org.dealbridge.schemas.LinkOrigin;
import org.dealbridge.schemas.SyncLink;
import org.dealbridge.schemas.Topics;

/**
 * N order ↔ deal links in the deal projector's link store: how long the projector takes to take them in, the heap and
 * RocksDB bytes they cost, and how long a restart takes with its local state and after losing it (restored from the
 * store's changelog).
 */
final class StateBenchmark {

    static BenchResult run(int links) throws Exception {
        BenchResult result = new BenchResult("state");
        result.put("links", links);
        try (BenchRig rig = new BenchRig(4)) {
            rig.publishMapping();
            long produceStarted = System.nanoTime();
            var serializer = rig.topics.dealLinks().valueSerde().serializer();
            for (long id = 1; id <= links; id++) {
                SyncLink link = SyncLink.newBuilder().setSiteId("s1").setOrderId(id).setDealId(1_000_000 + id)
                        .setCategoryId(id % 2 == 0 ? 2 : 0).setStageId(id % 2 == 0 ? "C2:NEW" : "NEW").setStatusId("N")
                        .setDealFields(Map.of("UF_CRM_PAY_SYSTEM", "4")).setOrigin(LinkOrigin.ORDER)
                        .setUpdatedAt(Instant.now()).build();
                rig.producer.send(new ProducerRecord<>(Topics.DEAL_LINKS, Keys.order("s1", id), serializer.serialize(Topics.DEAL_LINKS, link)));
            }
            rig.producer.flush();
            result.put("produceSeconds", (System.nanoTime() - produceStarted) / 1e9);

            String appId = "bench-state";
            Path stateDir = rig.dir.resolve("state");
            var config = BenchRig.projectorConfig(Duration.ofMillis(500), appId + "-crm");
            System.gc();
            long heapBefore = usedHeap();
            long started = System.nanoTime();
            rig.startProjector(config, appId, true, stateDir);
            try (Admin admin = Admin.create(rig.clientProperties())) {
                BenchRig.await("the projector took in " + links + " links", Duration.ofSeconds(120 + links / 1000),
                        () -> BenchRig.caughtUp(admin, appId, Topics.DEAL_LINKS));
            }
            result.put("loadSeconds", (System.nanoTime() - started) / 1e9, "start → every link in the store");
            System.gc();
            result.put("heapDeltaMb", (usedHeap() - heapBefore) / (1024.0 * 1024), "heap after GC, loaded − before");
            result.put("rocksDbMb", BenchRig.sizeOf(stateDir) / (1024.0 * 1024), "the state directory on disk");

            rig.stopProjector();
            started = System.nanoTime();
            rig.startProjector(config, appId, true, stateDir);
            result.put("restartSeconds", (System.nanoTime() - started) / 1e9, "restart with local state → RUNNING");
            result.put("restartRestoredRecords", rig.restoredRecords.get(), "read from the changelog on that restart");

            rig.stopProjector();
            BenchRig.delete(stateDir);
            started = System.nanoTime();
            rig.startProjector(config, appId, true, stateDir);
            // the link store's changelog holds every link once (keys are distinct), the pending store's nothing
            BenchRig.await("the link store is restored", Duration.ofSeconds(120 + links / 1000), () -> rig.restoredRecords.get() >= links);
            result.put("restoreSeconds", (System.nanoTime() - started) / 1e9,
                    "state lost: start → changelog restored and RUNNING");
            result.put("restoredRecords", rig.restoredRecords.get());
            result.put("rocksDbMbRestored", BenchRig.sizeOf(stateDir) / (1024.0 * 1024));
        }
        return result;
    }

    private static long usedHeap() {
        Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }

    private StateBenchmark() {
    }
}

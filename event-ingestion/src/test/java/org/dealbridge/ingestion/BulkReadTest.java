package org.dealbridge.ingestion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.dealbridge.bitrix.BitrixException;
import org.junit.jupiter.api.Test;

class BulkReadTest {
    private final List<List<Long>> reads = new ArrayList<>();
    private final List<String> handled = new ArrayList<>();

    private final BulkRead.Handler<String> handler = new BulkRead.Handler<>() {
        @Override
        public void publish(long id, String record) {
            handled.add("publish " + id + " " + record);
        }

        @Override
        public boolean gone(long id) {
            handled.add("gone " + id);
            return true;
        }

        @Override
        public void unreadable(long id, RuntimeException cause) {
            handled.add("unreadable " + id);
        }

        @Override
        public void confirm() {
            handled.add("confirm");
        }
    };

    private BulkRead<String> bulk(Map<Long, BulkRead.Result<String>> answers, int chunk) {
        return new BulkRead<>(ids -> {
            reads.add(List.copyOf(ids));
            Map<Long, BulkRead.Result<String>> out = new LinkedHashMap<>();
            ids.forEach(id -> {
                if (answers.containsKey(id)) {
                    out.put(id, answers.get(id));
                }
            });
            return out;
        }, handler, chunk);
    }

    @Test
    void idsAreReadInChunksOnceEachAndEveryAnswerIsHandledOnItsOwn() {
        Map<Long, BulkRead.Result<String>> answers = new LinkedHashMap<>();
        for (long id = 1; id <= 5; id++) {
            answers.put(id, new BulkRead.Result.Found<>("r" + id));
        }
        answers.put(3L, new BulkRead.Result.Failed<>(new IllegalStateException("malformed")));
        answers.remove(4L);  // not in the answer: gone

        Refresher.Refreshed done = bulk(answers, 2).refresh(List.of(1L, 2L, 3L, 2L, 4L, 5L));

        assertThat(reads).containsExactly(List.of(1L, 2L), List.of(3L, 4L), List.of(5L));
        assertThat(handled).containsExactly("publish 1 r1", "publish 2 r2", "confirm", "unreadable 3", "gone 4", "confirm", "publish 5 r5", "confirm");
        assertThat(done).isEqualTo(new Refresher.Refreshed(3, 2));
    }

    @Test
    void aFailureThatWaitsIsThrownOnceTheRestOfItsChunkIsPublished() {
        BitrixException down = org.dealbridge.bitrix.PortalFailures.rateLimited("sale.order.list");
        Map<Long, BulkRead.Result<String>> answers = Map.of(1L, new BulkRead.Result.Found<>("r1"), 2L, new BulkRead.Result.Failed<>(down),
                3L, new BulkRead.Result.Found<>("r3"));

        assertThatThrownBy(() -> bulk(answers, 50).refresh(List.of(1L, 2L, 3L))).isSameAs(down);
        assertThat(handled).containsExactly("publish 1 r1", "publish 3 r3", "confirm");
    }
}

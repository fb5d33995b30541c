package org.dealbridge.ingestion;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RefreshQueueTest {

    /** One id at a time, no coalesce window, as the store hook runs it. */
    private static RefreshQueue queue(java.util.function.LongConsumer refresher, int capacity) {
        RefreshQueue queue = new RefreshQueue(ids -> {
            ids.forEach(refresher::accept);
            return Refresher.Refreshed.NONE;
        }, new RefreshQueue.Settings("test-refresh", java.time.Duration.ZERO, 1, capacity, java.time.Duration.ofMillis(50)));
        queue.open();
        return queue;
    }

    @Test
    void aBurstForOneOrderWhileItIsBeingReadCostsAtMostOneMoreRead() throws Exception {
        List<Long> reads = new CopyOnWriteArrayList<>();
        CountDownLatch firstReadStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (RefreshQueue queue = queue(id -> {
            reads.add(id);
            firstReadStarted.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, 100)) {
            assertThat(queue.submit(7)).isEqualTo(RefreshQueue.Submitted.QUEUED);
            assertThat(firstReadStarted.await(5, TimeUnit.SECONDS)).isTrue();
            // the read of 7 is in progress: nine more events for 7 queue exactly one more read
            assertThat(queue.submit(7)).isEqualTo(RefreshQueue.Submitted.QUEUED);
            for (int i = 0; i < 8; i++) {
                assertThat(queue.submit(7)).isEqualTo(RefreshQueue.Submitted.ALREADY_PENDING);
            }
            assertThat(queue.pending()).isEqualTo(1);
            release.countDown();
            assertThat(queue.awaitIdle(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(reads).containsExactly(7L, 7L);
    }

    @Test
    void ordersAreReadInArrivalOrderAndAFullQueueDropsNewIds() throws Exception {
        List<Long> reads = new CopyOnWriteArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        try (RefreshQueue queue = queue(id -> {
            started.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            reads.add(id);
        }, 2)) {
            queue.submit(1);
            assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
            queue.submit(3);
            queue.submit(2);
            assertThat(queue.submit(4)).isEqualTo(RefreshQueue.Submitted.DROPPED_FULL);
            release.countDown();
            assertThat(queue.awaitIdle(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(reads).containsExactly(1L, 3L, 2L);
    }

    @Test
    void aFailedRefreshKeepsTheIdQueuedAheadOfNewerOnes() throws Exception {
        List<Long> reads = new CopyOnWriteArrayList<>();
        try (RefreshQueue queue = queue(id -> {
            reads.add(id);
            if (id == 1 && reads.size() == 1) {
                throw new IllegalStateException("boom");
            }
        }, 10)) {
            queue.submit(1);
            queue.submit(2);
            assertThat(queue.awaitIdle(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(reads).containsExactly(1L, 1L, 2L);
    }

    @Test
    void idsGatherForTheCoalesceWindowAndGoOutInBatches() throws Exception {
        List<List<Long>> batches = new CopyOnWriteArrayList<>();
        try (RefreshQueue queue = new RefreshQueue(ids -> {
            batches.add(List.copyOf(ids));
            return Refresher.Refreshed.NONE;
        }, new RefreshQueue.Settings("test-refresh", java.time.Duration.ofMillis(300), 3, 100, java.time.Duration.ofMillis(50)))) {
            queue.open();
            for (long id : new long[] {5, 6, 5, 7, 8, 5}) {
                queue.submit(id);
            }
            assertThat(queue.awaitIdle(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(batches).containsExactly(List.of(5L, 6L, 7L), List.of(8L));
    }

    @Test
    void nothingIsAcceptedBeforeTheQueueOpensOrAfterItCloses() {
        RefreshQueue queue = new RefreshQueue(ids -> Refresher.Refreshed.NONE,
                new RefreshQueue.Settings("test-refresh", java.time.Duration.ZERO, 1, 10, java.time.Duration.ofMillis(50)));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> queue.submit(1)).hasMessageContaining("not open yet");
        queue.open();
        assertThat(queue.submit(1)).isEqualTo(RefreshQueue.Submitted.QUEUED);
        queue.close();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> queue.submit(2)).hasMessageContaining("closed");
    }
}

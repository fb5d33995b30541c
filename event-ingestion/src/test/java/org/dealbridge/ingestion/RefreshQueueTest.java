package org.dealbridge.ingestion;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class RefreshQueueTest {

    /** One id at a time, no coalesce window, as the store hook runs it. */
    private static RefreshQueue queue(java.util.function.LongConsumer refresher, int capacity) {
        RefreshQueue queue = new RefreshQueue(ids -> {
            ids.forEach(refresher::accept);
            return Refresher.Refreshed.NONE;
        }, new RefreshQueue.Settings("test-refresh", java.time.Duration.ZERO, 1, capacity, java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(200)));
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
    void aFailedReadWaitsAndIsReadAgainWithoutHoldingTheOtherIds() throws Exception {
        List<Long> reads = new CopyOnWriteArrayList<>();
        AtomicBoolean oneReadable = new AtomicBoolean(false);
        try (RefreshQueue queue = queue(id -> {
            reads.add(id);
            if (id == 1 && !oneReadable.get()) {
                throw new IllegalStateException("sale.order.get failed (transient): http=500");
            }
        }, 10)) {
            queue.submit(1);
            queue.submit(2);
            queue.submit(3);
            // 1 fails on every read, yet 2 and 3 are read, and 1 is read again rather than given up
            awaitUntil(() -> reads.contains(2L) && reads.contains(3L) && reads.stream().filter(id -> id == 1).count() >= 3);
            assertThat(queue.retrying()).isEqualTo(1);
            assertThat(queue.submit(1)).as("a new event for the waiting id coalesces with it").isEqualTo(RefreshQueue.Submitted.ALREADY_PENDING);
            oneReadable.set(true);
            assertThat(queue.awaitIdle(5, TimeUnit.SECONDS)).isTrue();
            assertThat(queue.retrying()).isZero();
        }
        assertThat(reads.get(0)).isEqualTo(1L);
        assertThat(reads).filteredOn(id -> id != 1).containsExactly(2L, 3L);
    }

    /**
     * The portal is down: every read fails. The queue must not hammer it id after id; it pauses as a whole, longer
     * after each failure in a row (initial 50 ms doubling, at most 200 ms, jitter ±50 %), and once the portal answers
     * again every id is read and nothing was given up.
     */
    @Test
    void whileEveryReadFailsTheQueuePausesAsAWholeWithAGrowingBackoffAndNothingIsGivenUp() throws Exception {
        List<Long> readAt = new CopyOnWriteArrayList<>();
        List<Long> read = new CopyOnWriteArrayList<>();
        AtomicBoolean portalUp = new AtomicBoolean(false);
        List<String> heard = new CopyOnWriteArrayList<>();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (RefreshQueue queue = queue(id -> {
            readAt.add(System.nanoTime());
            if (!portalUp.get()) {
                throw new IllegalStateException("portal down");
            }
            read.add(id);
        }, 100)) {
            queue.bindTo(meters).addListener(new ReadFailureListener() {
                @Override
                public void readsFailing(String reader, RuntimeException cause) {
                    heard.add("failing " + reader + ": " + cause.getMessage());
                }

                @Override
                public void readsRecovered(String reader, java.time.Duration failedFor) {
                    heard.add("recovered " + reader);
                }
            });
            for (long id = 1; id <= 5; id++) {
                queue.submit(id);
            }
            awaitUntil(() -> readAt.size() >= 7);
            double[] leastPauseMillis = {25, 50, 100, 100, 100, 100};  // half of min(200, 50 · 2^(k-1))
            for (int k = 0; k < leastPauseMillis.length; k++) {
                assertThat((readAt.get(k + 1) - readAt.get(k)) / 1e6).as("pause after %d failures in a row", k + 1)
                        .isGreaterThanOrEqualTo(leastPauseMillis[k]);
            }
            assertThat(meters.get(RefreshQueue.READS_WAITING).tag("queue", "test-refresh").gauge().value()).isEqualTo(5);
            assertThat(meters.get(RefreshQueue.READS_RETRYING).tag("queue", "test-refresh").gauge().value()).isGreaterThan(0);
            portalUp.set(true);
            assertThat(queue.awaitIdle(5, TimeUnit.SECONDS)).isTrue();
            assertThat(meters.get(RefreshQueue.READS_WAITING).tag("queue", "test-refresh").gauge().value()).isZero();
            assertThat(meters.get(RefreshQueue.READS_RETRYING).tag("queue", "test-refresh").gauge().value()).isZero();
        }
        assertThat(read).containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 5L);
        assertThat(heard).containsExactly("failing test-refresh: portal down", "recovered test-refresh");
    }

    private static void awaitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waited 10 s").isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    @Test
    void idsGatherForTheCoalesceWindowAndGoOutInBatches() throws Exception {
        List<List<Long>> batches = new CopyOnWriteArrayList<>();
        try (RefreshQueue queue = new RefreshQueue(ids -> {
            batches.add(List.copyOf(ids));
            return Refresher.Refreshed.NONE;
        }, new RefreshQueue.Settings("test-refresh", java.time.Duration.ofMillis(300), 3, 100, java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(200)))) {
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
                new RefreshQueue.Settings("test-refresh", java.time.Duration.ZERO, 1, 10, java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(200)));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> queue.submit(1)).hasMessageContaining("not open yet");
        queue.open();
        assertThat(queue.submit(1)).isEqualTo(RefreshQueue.Submitted.QUEUED);
        queue.close();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> queue.submit(2)).hasMessageContaining("closed");
    }
}

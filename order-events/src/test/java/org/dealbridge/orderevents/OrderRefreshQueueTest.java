package org.dealbridge.orderevents;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OrderRefreshQueueTest {

    @Test
    void aBurstForOneOrderWhileItIsBeingReadCostsAtMostOneMoreRead() throws Exception {
        List<Long> reads = new CopyOnWriteArrayList<>();
        CountDownLatch firstReadStarted = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (OrderRefreshQueue queue = new OrderRefreshQueue(id -> {
            reads.add(id);
            firstReadStarted.countDown();
            try {
                release.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, 100)) {
            assertThat(queue.submit(7)).isEqualTo(OrderRefreshQueue.Submitted.QUEUED);
            assertThat(firstReadStarted.await(5, TimeUnit.SECONDS)).isTrue();
            // the read of 7 is in progress: nine more events for 7 queue exactly one more read
            assertThat(queue.submit(7)).isEqualTo(OrderRefreshQueue.Submitted.QUEUED);
            for (int i = 0; i < 8; i++) {
                assertThat(queue.submit(7)).isEqualTo(OrderRefreshQueue.Submitted.ALREADY_PENDING);
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
        try (OrderRefreshQueue queue = new OrderRefreshQueue(id -> {
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
            assertThat(queue.submit(4)).isEqualTo(OrderRefreshQueue.Submitted.DROPPED_FULL);
            release.countDown();
            assertThat(queue.awaitIdle(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(reads).containsExactly(1L, 3L, 2L);
    }

    @Test
    void aFailingRefreshDoesNotStopTheWorker() throws Exception {
        List<Long> reads = new CopyOnWriteArrayList<>();
        try (OrderRefreshQueue queue = new OrderRefreshQueue(id -> {
            reads.add(id);
            if (id == 1) {
                throw new IllegalStateException("boom");
            }
        }, 10)) {
            queue.submit(1);
            queue.submit(2);
            assertThat(queue.awaitIdle(5, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(reads).containsExactly(1L, 2L);
    }
}

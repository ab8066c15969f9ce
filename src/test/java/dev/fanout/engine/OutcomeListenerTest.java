package dev.fanout.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The run tells a listener of each outcome as it is set: once, during the run, and outside the run's lock. */
class OutcomeListenerTest {

    @ParameterizedTest
    @ValueSource(longs = { 1, 2, 3, 4, 5, 6, 7, 8 })
    void eachItemIsToldOnceWithTheOutcomeTheRunReturns(long seed) {
        var random = new Random(seed);
        int n = 200 + random.nextInt(300);
        List<Integer> items = IntStream.range(0, n).boxed().toList();
        // some groups, some failures, some items past the cut-off: every kind of outcome is told
        Batch<Integer> batch = Batch.fifo(items, i -> i % 3 == 0 ? "g" + (i % 7) : null);
        var told = new AtomicReferenceArray<Outcome<Integer>>(n);
        var calls = new AtomicInteger();
        var pool = new WorkerPool(Limits.of(1 + random.nextInt(32)).withCutoffMargin(Duration.ofMillis(200)));

        BatchResult<Integer> result = pool.run(batch, context -> {
            int i = context.item();
            if (i % 11 == 0) {
                throw new IllegalStateException("fails " + i);
            }
            if (i % 97 == 5) {
                WorkerPoolTest.hangUntilInterrupted(); // until the cut-off
            }
            return i;
        }, Deadline.after(Duration.ofMillis(500)), (index, outcome) -> {
            calls.incrementAndGet();
            assertThat(told.compareAndSet(index, null, outcome)).as("item %d told twice", index).isTrue();
        });

        assertThat(calls.get()).isEqualTo(n);
        for (int i = 0; i < n; i++) {
            assertThat(told.get(i)).as("item %d", i).isSameAs(result.outcome(i));
        }
    }

    @Test
    void anOutcomeIsToldWhileTheRunGoesOn() {
        var firstTold = new CountDownLatch(1);
        var pool = new WorkerPool(Limits.of(2));

        // item 1 can only end once the listener has heard of item 0: the run waits on it, not the other way
        BatchResult<String> result = pool.run(Batch.of(List.of(0, 1)), context -> {
            if (context.item() == 1 && !firstTold.await(10, TimeUnit.SECONDS)) {
                return "item 0 was not told while item 1 ran";
            }
            return "done";
        }, Deadline.after(Duration.ofSeconds(20)), (index, outcome) -> {
            if (index == 0) {
                firstTold.countDown();
            }
        });

        assertThat(((Outcome.Succeeded<String>) result.outcome(1)).value()).isEqualTo("done");
    }

    @Test
    void theListenerRunsOutsideTheRunsLock() {
        var listenerOfZeroStarted = new CountDownLatch(1);
        var oneTold = new CountDownLatch(1);
        var zeroSawOne = new AtomicInteger();
        var pool = new WorkerPool(Limits.of(2));

        // the listener for item 0 waits until item 1 has ended and been told; item 1 ends only after that
        // listener has started. Ending an item takes the run's lock: under the lock, this would never finish.
        pool.run(Batch.of(List.of(0, 1)), context -> {
            if (context.item() == 1) {
                listenerOfZeroStarted.await(10, TimeUnit.SECONDS);
            }
            return context.item();
        }, Deadline.after(Duration.ofSeconds(20)), (index, outcome) -> {
            if (index == 0) {
                listenerOfZeroStarted.countDown();
                try {
                    if (oneTold.await(10, TimeUnit.SECONDS)) {
                        zeroSawOne.incrementAndGet();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else {
                oneTold.countDown();
            }
        });

        assertThat(zeroSawOne.get()).isEqualTo(1);
    }

    @Test
    void aThrowingListenerCostsNoItemItsOutcomeNorTheNextItemItsStart() {
        var pool = new WorkerPool(Limits.of(1));

        BatchResult<Integer> result = pool.run(Batch.of(List.of(0, 1, 2)), ItemContext::item,
                Deadline.after(Duration.ofSeconds(10)), (index, outcome) -> {
                    throw new IllegalStateException("listener bug");
                });

        assertThat(result.summary().succeeded()).isEqualTo(3);
    }
}

package dev.fanout.engine;

import static dev.fanout.engine.WorkerPoolTest.hangUntilInterrupted;
import static dev.fanout.engine.WorkerPoolTest.range;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;

import org.junit.jupiter.api.Test;

import dev.fanout.engine.Cancellation.Cause;
import dev.fanout.engine.Outcome.Failed;
import dev.fanout.engine.Outcome.NotStarted;
import dev.fanout.engine.Outcome.Rejected;
import dev.fanout.engine.Outcome.Succeeded;
import dev.fanout.engine.Outcome.TimedOut;

/**
 * The run's rules at their exact edges, on a ticker that moves only when an item moves it: the cut-off and an
 * item's timeout at their very nanosecond, each item's deadline, the order items start in, what a wrapped
 * failure is, the timings and percentiles of the summary; and the caller interrupted or told last.
 */
class RunRulesTest {

    final ManualTicker ticker = new ManualTicker();

    @Test
    void aRunThatStartsExactlyAtItsCutOffStartsNothing() {
        var calls = new AtomicBoolean();
        var pool = new WorkerPool(Limits.of(2).withCutoffMargin(Duration.ofSeconds(1)), ticker);

        BatchResult<Integer> result = pool.run(Batch.of(range(2)), ctx -> {
            calls.set(true);
            return ctx.index();
        }, Deadline.after(Duration.ofSeconds(1), ticker));

        assertThat(calls).isFalse();
        assertThat(result.outcomes()).containsOnly(new NotStarted<>(NotStarted.Reason.CUT_OFF, OptionalInt.empty()));
        assertThat(result.summary().elapsed()).isZero();
    }

    @Test
    void anItemTimesOutAtTheVeryNanosecondOfItsTimeout() {
        var pool = new WorkerPool(Limits.of(1).withItemTimeout(Duration.ofSeconds(5)), ticker);

        BatchResult<String> result = pool.run(Batch.of(List.of("exact")), ctx -> {
            ticker.advance(Duration.ofSeconds(5));
            // bounded: a run that missed the timeout would get "late" back after 10 s instead of hanging
            try {
                return new CountDownLatch(1).await(10, TimeUnit.SECONDS) ? "released" : "late";
            } catch (InterruptedException timedOut) {
                return "interrupted";
            }
        }, Deadline.after(Duration.ofSeconds(60), ticker));

        assertThat(result.outcome(0)).isInstanceOfSatisfying(TimedOut.class,
                t -> assertThat(t.cause()).isEqualTo(Cause.ITEM_TIMEOUT));
        assertThat(result.outcome(0).timing().orElseThrow().duration()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void anItemsDeadlineIsItsTimeoutOrTheCutOffWhicheverComesFirst() {
        var deadlines = new ConcurrentLinkedQueue<Duration>();
        Deadline deadline = Deadline.after(Duration.ofSeconds(10), ticker);
        // cut-off at 9 s; a 5 s timeout comes first for item 0, which runs 4.999 s; item 1 then starts, and its
        // timeout (at 9.999 s) would come after the cut-off
        var pool = new WorkerPool(Limits.of(1).withItemTimeout(Duration.ofSeconds(5))
                .withCutoffMargin(Duration.ofSeconds(1)), ticker);

        BatchResult<Integer> result = pool.run(Batch.of(range(2)), ctx -> {
            deadlines.add(ctx.remaining());
            if (ctx.index() == 0) {
                assertThat(ctx.deadline()).isEqualTo(Deadline.after(Duration.ofSeconds(5), ticker));
                ticker.advance(Duration.ofMillis(4_999)); // just before its timeout
                return 0;
            }
            assertThat(ctx.deadline()).isEqualTo(deadline.minus(Duration.ofSeconds(1)));
            return 1;
        }, deadline);

        assertThat(deadlines).containsExactly(Duration.ofSeconds(5), Duration.ofMillis(4_001));
        assertThat(result.outcomes()).allMatch(Outcome::isSuccess);
    }

    @Test
    void withOneSlotItemsStartInInputOrderAcrossGroups() {
        // a group's next item is handed over when its previous one ends; it still waits for the lower-numbered
        // items that became ready before it
        var started = new ConcurrentLinkedQueue<Integer>();
        var pool = new WorkerPool(Limits.of(1), ticker);
        Map<Integer, String> groups = Map.of(0, "a", 1, "a", 2, "b", 3, "c", 4, "b");

        pool.run(Batch.fifo(range(5), groups::get), ctx -> {
            started.add(ctx.index());
            return ctx.index();
        }, Deadline.after(Duration.ofSeconds(60), ticker));

        assertThat(started).containsExactly(0, 1, 2, 3, 4);
    }

    @Test
    void aWrappedFailureIsJudgedByWhatItWraps() {
        var pool = new WorkerPool(Limits.of(4), ticker);

        BatchResult<Integer> result = pool.run(Batch.of(range(4)), ctx -> {
            switch (ctx.index()) {
                case 0 -> throw new CompletionException(new RejectedItemException("not an order"));
                case 1 -> throw new CompletionException(new ExecutionException(new NonRetryableException("closed")));
                case 2 -> throw new CompletionException("no cause", null);
                default -> throw new ExecutionException("no cause either", null);
            }
        }, Deadline.after(Duration.ofSeconds(60), ticker));

        assertThat(((Rejected<Integer>) result.outcome(0)).reason()).isEqualTo("not an order");
        var permanent = (Failed<Integer>) result.outcome(1);
        assertThat(permanent.retryable()).isFalse();
        assertThat(permanent.error()).isInstanceOf(NonRetryableException.class).hasMessage("closed");
        var bare = (Failed<Integer>) result.outcome(2);
        assertThat(bare.retryable()).isTrue();
        assertThat(bare.error()).isInstanceOf(CompletionException.class).hasMessage("no cause");
        assertThat(((Failed<Integer>) result.outcome(3)).error()).isInstanceOf(ExecutionException.class);
    }

    @Test
    void timingsArePlacedOnTheWallClockFromTheRunsStart() {
        ticker.advance(Duration.ofHours(1)); // a reading far from zero: an offset taken the wrong way shows
        var pool = new WorkerPool(Limits.of(1), ticker);
        Instant before = Instant.now();

        BatchResult<Integer> result = pool.run(Batch.of(range(2)), ctx -> {
            ticker.advance(Duration.ofSeconds(ctx.index() + 2));
            return ctx.index();
        }, Deadline.after(Duration.ofSeconds(60), ticker));

        Instant after = Instant.now();
        Outcome.Timing first = result.outcome(0).timing().orElseThrow();
        Outcome.Timing second = result.outcome(1).timing().orElseThrow();
        assertThat(first.startedAt()).isBetween(before, after);
        assertThat(first.duration()).isEqualTo(Duration.ofSeconds(2));
        assertThat(Duration.between(first.startedAt(), second.startedAt())).isEqualTo(Duration.ofSeconds(2));
        assertThat(second.duration()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void theSummaryHasNearestRankPercentilesOfTheRunningTimes() {
        // twenty items, one at a time, running 20 s, 19 s, ... 1 s: the longest first
        var pool = new WorkerPool(Limits.of(1), ticker);

        RunSummary summary = pool.run(Batch.of(range(20)), ctx -> {
            ticker.advance(Duration.ofSeconds(20 - ctx.index()));
            return ctx.index();
        }, Deadline.after(Duration.ofMinutes(10), ticker)).summary();

        assertThat(summary.p50()).isEqualTo(Duration.ofSeconds(10));
        assertThat(summary.p95()).isEqualTo(Duration.ofSeconds(19));
        assertThat(summary.max()).isEqualTo(Duration.ofSeconds(20));
        assertThat(summary.elapsed()).isEqualTo(Duration.ofSeconds(210));
        assertThat(summary.timeLeft()).isEqualTo(Duration.ofSeconds(390));

        RunSummary empty = pool.run(Batch.of(List.<Integer>of()), ItemContext::item,
                Deadline.after(Duration.ofSeconds(1), ticker)).summary();
        assertThat(List.of(empty.p50(), empty.p95(), empty.max())).containsOnly(Duration.ZERO);
        assertThat(pool.limits()).isEqualTo(Limits.of(1));
    }

    @Test
    void aCallerInterruptedWhileItemsRunCutsOffAtOnceAndKeepsItsInterrupt() throws Exception {
        var running = new CountDownLatch(2);
        var result = new AtomicReference<BatchResult<Integer>>();
        var interruptedAfter = new AtomicBoolean();
        var pool = new WorkerPool(Limits.of(2));
        Thread caller = Thread.ofPlatform().start(() -> {
            result.set(pool.run(Batch.of(range(3)), ctx -> {
                running.countDown();
                hangUntilInterrupted();
                return ctx.index();
            }, Deadline.after(Duration.ofMinutes(1))));
            interruptedAfter.set(Thread.currentThread().isInterrupted());
        });

        assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
        caller.interrupt();
        caller.join(Duration.ofSeconds(30));

        assertThat(caller.isAlive()).isFalse();
        assertThat(interruptedAfter).isTrue();
        for (int i = 0; i < 2; i++) {
            assertThat(result.get().outcome(i)).isInstanceOfSatisfying(TimedOut.class,
                    t -> assertThat(t.cause()).isEqualTo(Cause.CUT_OFF));
        }
        assertThat(result.get().outcome(2)).isEqualTo(NotStarted.cutOff());
        assertThat(result.get().summary().elapsed()).isLessThan(Duration.ofSeconds(30));
    }

    @Test
    void theRunReturnsOnlyOnceTheListenersLastCallHasEndedAndThatCallWakesIt() {
        // the listener's call for the only item ends only once the caller waits for it; a caller that did not
        // wait would return first, and one that was not woken would wait until the deadline, 20 s away
        Thread caller = Thread.currentThread();
        var sawTheCallerWait = new AtomicBoolean();
        var pool = new WorkerPool(Limits.of(1), Ticker.system(), WakeUpTest.NO_POLLING);

        BatchResult<Integer> result = pool.run(Batch.of(range(1)), ItemContext::index,
                Deadline.after(WakeUpTest.CUTOFF_FAR_AWAY), (index, outcome) -> sawTheCallerWait.set(
                        untilWaitingForTheListener(caller)));

        assertThat(sawTheCallerWait).isTrue();
        assertThat(result.summary().elapsed()).isLessThan(WakeUpTest.LONG_BEFORE_THE_CUTOFF);
    }

    /**
     * Whether {@code caller} parks waiting for listener calls to end within 10 s: parked with a blocker that is
     * not the run's lock condition (the caller's wait for outcomes).
     */
    static boolean untilWaitingForTheListener(Thread caller) {
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() - giveUpAt < 0) {
            Object blocker = LockSupport.getBlocker(caller);
            if (blocker != null && !(blocker instanceof Condition)) {
                return true;
            }
            Thread.onSpinWait();
        }
        return false;
    }
}

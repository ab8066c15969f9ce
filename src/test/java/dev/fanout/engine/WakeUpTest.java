package dev.fanout.engine;

import static dev.fanout.engine.WorkerPoolTest.hangUntilInterrupted;
import static dev.fanout.engine.WorkerPoolTest.range;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.fanout.engine.Cancellation.Cause;
import dev.fanout.engine.Outcome.NotStarted;
import dev.fanout.engine.Outcome.Succeeded;
import dev.fanout.engine.Outcome.TimedOut;

/**
 * Every wait of a run ends by a signal or by its own timer. A pool re-reads its ticker at least every 100 ms
 * as a safety net, which would hide a missing wake-up as a run that ends up to 100 ms late: these runs lift
 * that bound, so a missing wake-up leaves the caller asleep until the cut-off, 20 s away, and what the run
 * returns (or when) shows it. A run whose wake-ups work takes milliseconds here.
 */
class WakeUpTest {

    static final Duration NO_POLLING = Duration.ofHours(1);
    static final Duration CUTOFF_FAR_AWAY = Duration.ofSeconds(20);
    /** Far below the 20 s a missing wake-up costs, far above what a loaded machine adds to a working run. */
    static final Duration LONG_BEFORE_THE_CUTOFF = Duration.ofSeconds(10);

    static WorkerPool pool(Limits limits) {
        return new WorkerPool(limits, Ticker.system(), NO_POLLING);
    }

    /** Returns once {@code thread} is parked with a timeout (the caller waiting for the run), or after 10 s. */
    static void untilParkedWithATimeout(Thread thread) {
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (thread.getState() != Thread.State.TIMED_WAITING && System.nanoTime() - giveUpAt < 0) {
            Thread.onSpinWait();
        }
    }

    @Test
    void theLastOutcomeWakesTheWaitingCaller() {
        Thread caller = Thread.currentThread();
        long started = System.nanoTime();

        BatchResult<Integer> result = pool(Limits.of(2)).run(Batch.of(range(3)), ctx -> {
            if (ctx.index() == 2) {
                untilParkedWithATimeout(caller); // the last item ends while the caller waits
            }
            return ctx.index();
        }, Deadline.after(CUTOFF_FAR_AWAY));

        assertThat(result.outcomes()).extracting(o -> ((Succeeded<Integer>) o).value()).containsExactly(0, 1, 2);
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(LONG_BEFORE_THE_CUTOFF);
    }

    @Test
    void anItemTimesOutAtItsOwnTimeoutNotAtTheCutOff() {
        long started = System.nanoTime();

        BatchResult<String> result = pool(Limits.of(2).withItemTimeout(Duration.ofMillis(50)))
                .run(Batch.of(List.of("hang", "ok")), ctx -> {
                    if (ctx.item().equals("hang")) {
                        hangUntilInterrupted();
                    }
                    return ctx.item();
                }, Deadline.after(CUTOFF_FAR_AWAY));

        assertThat(result.outcome(0)).isInstanceOfSatisfying(TimedOut.class,
                t -> assertThat(t.cause()).isEqualTo(Cause.ITEM_TIMEOUT));
        assertThat(((Succeeded<String>) result.outcome(1)).value()).isEqualTo("ok");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(LONG_BEFORE_THE_CUTOFF);
    }

    @Test
    void anItemStartedByAnEndingItemHasItsTimeoutFiredToo() {
        // one slot: item 0 times out, and its thread, as it leaves, starts item 1 while the caller waits with no
        // timeout pending; item 1's timeout must wake the caller, or item 1 runs until the cut-off
        BatchResult<Integer> result = pool(Limits.of(1).withItemTimeout(Duration.ofMillis(50)))
                .run(Batch.of(range(2)), ctx -> {
                    hangUntilInterrupted();
                    return ctx.index();
                }, Deadline.after(CUTOFF_FAR_AWAY));

        for (int i = 0; i < 2; i++) {
            assertThat(result.outcome(i)).as("item %d", i).isInstanceOfSatisfying(TimedOut.class,
                    t -> assertThat(t.cause()).isEqualTo(Cause.ITEM_TIMEOUT));
        }
        assertThat(result.summary().elapsed()).isLessThan(LONG_BEFORE_THE_CUTOFF);
    }

    @Test
    void theCancelGraceEndsWhenTheLastCancelledItemStops() {
        // cut-off 200 ms after the start, then a grace of 15 s that only the items' stopping can shorten
        var limits = Limits.of(3).withCutoffMargin(CUTOFF_FAR_AWAY.minusMillis(200)).withCancelGrace(Duration.ofSeconds(15));

        BatchResult<Integer> result = pool(limits).run(Batch.of(range(3)), ctx -> {
            hangUntilInterrupted();
            return ctx.index();
        }, Deadline.after(CUTOFF_FAR_AWAY));

        assertThat(result.outcomes()).allSatisfy(o -> assertThat(o).isInstanceOfSatisfying(TimedOut.class,
                t -> assertThat(t.cause()).isEqualTo(Cause.CUT_OFF)));
        assertThat(result.summary().abandoned()).isZero();
        assertThat(result.summary().elapsed()).isLessThan(LONG_BEFORE_THE_CUTOFF);
    }

    @Test
    void anItemThatEndsPastTheCutOffWakesTheCallerToCutOff() {
        // a ticker that jumps: item 0 moves it past the cut-off; the caller, asleep until the cut-off as it read
        // it before the jump (9 s of real time), must be woken by the item's end, not by its timer
        var ticker = new ManualTicker();
        var pool = new WorkerPool(Limits.of(1).withCutoffMargin(Duration.ofSeconds(1)), ticker, NO_POLLING);
        Thread caller = Thread.currentThread();
        long started = System.nanoTime();

        BatchResult<Integer> result = pool.run(Batch.of(range(3)), ctx -> {
            untilParkedWithATimeout(caller);
            ticker.advance(Duration.ofSeconds(9));
            return ctx.index();
        }, Deadline.after(Duration.ofSeconds(10), ticker));

        assertThat(((Succeeded<Integer>) result.outcome(0)).value()).isZero();
        assertThat(result.outcomes().subList(1, 3))
                .containsOnly(new NotStarted<>(NotStarted.Reason.CUT_OFF, OptionalInt.empty()));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void outcomesThatOnlyTheCallerDecidedAreToldToTheListenerWithoutWaitingForTheDeadline() {
        // cut-off 200 ms after the start and a 50 ms grace; item 0 ignores its cancellation until the run has
        // returned, item 1 never starts: both outcomes are the caller's, and no item thread is left to tell them
        var limits = Limits.of(1).withCutoffMargin(CUTOFF_FAR_AWAY.minusMillis(200)).withCancelGrace(Duration.ofMillis(50));
        var release = new CountDownLatch(1);
        var told = new ConcurrentHashMap<Integer, Outcome<Integer>>();
        long started = System.nanoTime();
        BatchResult<Integer> result;
        try {
            result = pool(limits).run(Batch.of(range(2)), ctx -> {
                while (true) {
                    try {
                        release.await(30, TimeUnit.SECONDS);
                        return ctx.index();
                    } catch (InterruptedException cancelled) {
                        // goes on waiting: an item that does not stop when cancelled
                    }
                }
            }, Deadline.after(CUTOFF_FAR_AWAY), told::put);
        } finally {
            release.countDown();
        }

        assertThat(result.outcome(0)).isInstanceOfSatisfying(TimedOut.class,
                t -> assertThat(t.cause()).isEqualTo(Cause.CUT_OFF));
        assertThat(result.outcome(1)).isEqualTo(new NotStarted<>(NotStarted.Reason.CUT_OFF, OptionalInt.empty()));
        assertThat(result.summary().abandoned()).isEqualTo(1);
        assertThat(told).containsExactlyInAnyOrderEntriesOf(Map.of(0, result.outcome(0), 1, result.outcome(1)));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(LONG_BEFORE_THE_CUTOFF);
    }
}

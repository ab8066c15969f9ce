package dev.fanout.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.fanout.engine.Cancellation.Cause;
import dev.fanout.engine.Outcome.NotStarted;
import dev.fanout.engine.Outcome.TimedOut;

/**
 * Items that wait outside the engine give their place back ({@link Slot}): an item parked for a slow
 * downstream service's permit never keeps another item from running, and the bound still holds for the items
 * that run. Proven with latches: a test that breaks either rule hangs on its latch until the await's 10 s
 * bound and fails there.
 */
class SlotTest {

    static final Duration FAR = Duration.ofSeconds(30);

    record Work(String service, int n) {
    }

    /** Ten items of a slow service park; four of another take every place of the bound (4) at once. */
    @Test
    void parkedItemsKeepNoOtherItemFromRunning() throws Exception {
        List<Work> items = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            items.add(new Work("slow", i));
        }
        for (int i = 0; i < 4; i++) {
            items.add(new Work("fast", i));
        }
        var slowGate = new CountDownLatch(1);
        var allFastRunning = new CountDownLatch(4);
        var slowParked = new AtomicInteger();
        var running = new AtomicInteger();
        var peakRunning = new AtomicInteger();

        BatchResult<String> result = new WorkerPool(Limits.of(4)).run(Batch.of(items), ctx -> {
            if (ctx.item().service().equals("slow")) {
                ctx.slot().release(true);
                slowParked.incrementAndGet();
                assertThat(slowGate.await(10, TimeUnit.SECONDS)).isTrue(); // the downstream permit, held back
                ctx.slot().reacquire();
            }
            int now = running.incrementAndGet();
            peakRunning.accumulateAndGet(now, Math::max);
            try {
                if (ctx.item().service().equals("fast")) {
                    allFastRunning.countDown();
                    if (!allFastRunning.await(10, TimeUnit.SECONDS)) {
                        throw new AssertionError("the fast service's items never ran four at once");
                    }
                    slowGate.countDown(); // only now may the slow service answer
                }
                return ctx.item().service();
            } finally {
                running.decrementAndGet();
            }
        }, Deadline.after(FAR));

        assertThat(result.outcomes()).allMatch(Outcome::isSuccess);
        assertThat(slowParked.get()).isEqualTo(10);
        assertThat(peakRunning.get()).isEqualTo(4);
        assertThat(result.summary().peakConcurrency()).isEqualTo(4);
    }

    /** A parked item asks for its place back ahead of the items not started yet. */
    @Test
    void aResumingItemGoesBeforeItemsNotStarted() throws Exception {
        var order = new ArrayList<String>();
        var parkedOne = new CountDownLatch(1);
        Thread[] parker = new Thread[1];
        BatchResult<String> result = new WorkerPool(Limits.of(1)).run(Batch.of(List.of("parks", "b", "c")), ctx -> {
            if (ctx.item().equals("parks")) {
                parker[0] = Thread.currentThread();
                ctx.slot().release(true);
                parkedOne.countDown();
                ctx.slot().reacquire();
            } else if (ctx.item().equals("b")) {
                assertThat(parkedOne.await(10, TimeUnit.SECONDS)).isTrue();
                WakeUpTest.untilParkedWithATimeout(parker[0]); // "parks" waits in line for a place
            }
            synchronized (order) {
                order.add(ctx.item());
            }
            return ctx.item();
        }, Deadline.after(FAR));

        assertThat(result.outcomes()).allMatch(Outcome::isSuccess);
        // "b" took the place "parks" gave back; as "b" ends, its place goes to "parks", not to "c"
        assertThat(order).containsExactly("b", "parks", "c");
    }

    @Test
    void cutOffWhileParkedIsNotStartedIfUnstartedAndTimedOutOtherwise() {
        var ticker = new ManualTicker();
        var bothParked = new CountDownLatch(2);
        var pool = new WorkerPool(Limits.of(2), ticker);
        Deadline deadline = Deadline.after(Duration.ofSeconds(1), ticker);
        Thread.ofVirtual().start(() -> {
            try {
                bothParked.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            ticker.advance(Duration.ofSeconds(2));
        });

        BatchResult<String> result = pool.run(Batch.of(List.of("unstarted", "started")), ctx -> {
            ctx.slot().release(ctx.item().equals("unstarted"));
            bothParked.countDown();
            hangUntilInterrupted();
            return ctx.item();
        }, deadline);

        assertThat(result.outcome(0)).isEqualTo(new NotStarted<String>(NotStarted.Reason.NOT_ADMITTED,
                java.util.OptionalInt.empty()));
        assertThat(result.outcome(1)).isInstanceOfSatisfying(TimedOut.class,
                t -> assertThat(t.cause()).isEqualTo(Cause.CUT_OFF));
        assertThat(result.summary().notStarted()).isEqualTo(1);
    }

    @Test
    void anItemTimeoutWhileParkedUnstartedIsNotStarted() {
        BatchResult<String> result = new WorkerPool(Limits.of(1).withItemTimeout(Duration.ofMillis(50)))
                .run(Batch.of(List.of("waits")), ctx -> {
                    ctx.slot().release(true);
                    ctx.slot().reacquire(); // nothing holds a place: granted at once
                    ctx.slot().release(true);
                    hangUntilInterrupted();
                    return ctx.item();
                }, Deadline.after(FAR));

        assertThat(result.outcome(0).status()).isEqualTo(Outcome.Status.NOT_STARTED);
    }

    @Test
    void aHandlerThatWasNotAdmittedIsNotStarted() {
        BatchResult<String> result = new WorkerPool(Limits.of(1)).run(Batch.of(List.of("x")), ctx -> {
            throw new NotAdmittedException("no permit of example.org:443 before the deadline");
        }, Deadline.after(FAR));

        assertThat(result.outcome(0)).isEqualTo(new NotStarted<String>(NotStarted.Reason.NOT_ADMITTED,
                java.util.OptionalInt.empty()));
    }

    @Test
    void theCallsComeInPairsOnTheItemsOwnThread() {
        BatchResult<String> result = new WorkerPool(Limits.of(1)).run(Batch.of(List.of("x")), ctx -> {
            assertThatThrownBy(() -> ctx.slot().reacquire()).isInstanceOf(IllegalStateException.class)
                    .hasMessage("the item is not parked");
            ctx.slot().release(true);
            assertThatThrownBy(() -> ctx.slot().release(true)).isInstanceOf(IllegalStateException.class)
                    .hasMessage("the item is parked already");
            Throwable[] elsewhere = new Throwable[1];
            Thread other = Thread.ofVirtual().start(() -> {
                try {
                    ctx.slot().reacquire();
                } catch (Throwable t) {
                    elsewhere[0] = t;
                }
            });
            other.join();
            assertThat(elsewhere[0]).isInstanceOf(IllegalStateException.class)
                    .hasMessage("an item's slot is given back and taken on its own thread only");
            ctx.slot().reacquire();
            return "ok";
        }, Deadline.after(FAR));

        assertThat(result.outcome(0).isSuccess()).as("%s", result.outcome(0)).isTrue();
    }

    static void hangUntilInterrupted() throws InterruptedException {
        new CountDownLatch(1).await();
    }
}

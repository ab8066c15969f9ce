package dev.fanout.work.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import com.netflix.concurrency.limits.limit.FixedLimit;

import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.NotAdmittedException;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.Slot;
import dev.fanout.engine.WorkerPool;

class ServiceLimitsTest {

    static final Duration FAR = Duration.ofSeconds(30);

    static LimitSettings aimd(int initial, int min, int max) {
        return new LimitSettings(true, LimitAlgorithm.AIMD, initial, min, max, 100);
    }

    @Nested
    class TheLimit {

        @Test
        void growsWhileTheServiceAnswersWellAndFallsToItsMinimumOnDrops() throws Exception {
            var limit = new ServiceLimit("http://a:80", aimd(4, 2, 40));
            for (int i = 0; i < 30; i++) {
                // keep at least half the limit in use, as AIMD asks before it grows
                List<Permit> held = new ArrayList<>();
                for (int n = 0; n < limit.limit(); n++) {
                    held.add(limit.acquire(Slot.HELD, Deadline.after(FAR), true));
                }
                held.forEach(Permit::success);
            }
            assertThat(limit.limit()).isEqualTo(40); // + 1 per answer with half the limit in use, up to the maximum
            // after the first drop, one sample per round trip of at least 10 answers: 1,000 drops, 100 samples
            for (int i = 0; i < 1000; i++) {
                limit.acquire(Slot.HELD, Deadline.after(FAR), true).dropped();
            }
            assertThat(limit.limit()).isEqualTo(2);
            assertThat(limit.inflight()).isZero();
        }

        @Test
        void aLatencyAlgorithmStaysWithinTheBounds() throws Exception {
            var limit = new ServiceLimit("http://a:80",
                    new LimitSettings(true, LimitAlgorithm.VEGAS, 10, 5, 12, 10));
            for (int i = 0; i < 200; i++) {
                limit.acquire(Slot.HELD, Deadline.after(FAR), true).dropped();
            }
            assertThat(limit.limit()).isEqualTo(5); // Vegas itself would go down to 1
        }

        @Test
        void aPermitEndsOnceAndCloseIgnoresAPermitAlreadyEnded() throws Exception {
            var limit = new ServiceLimit("http://a:80", aimd(2, 1, 2));
            Permit permit = limit.acquire(Slot.HELD, Deadline.after(FAR), true);
            permit.success();
            permit.dropped();
            permit.close();
            assertThat(limit.inflight()).isZero();
            try (Permit other = limit.acquire(Slot.HELD, Deadline.after(FAR), true)) {
                assertThat(limit.inflight()).isEqualTo(1);
            }
            assertThat(limit.inflight()).isZero();
            assertThat(limit.limit()).isEqualTo(2);
        }
    }

    @Nested
    class Waiting {

        @Test
        void aPermitFreedGoesToTheFirstInLine() throws Exception {
            var limit = new ServiceLimit("http://a:80", FixedLimit.of(1), 1, 1);
            Permit first = limit.acquire(Slot.HELD, Deadline.after(FAR), true);
            var order = new ArrayList<String>();
            var threads = new ArrayList<Thread>();
            for (String name : List.of("one", "two", "three")) {
                Thread t = Thread.ofVirtual().start(() -> {
                    try (Permit p = limit.acquire(Slot.HELD, Deadline.after(FAR), true)) {
                        synchronized (order) {
                            order.add(name);
                        }
                        p.success();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
                threads.add(t);
                untilWaiting(t); // in line before the next one comes
            }
            first.success();
            for (Thread t : threads) {
                t.join(Duration.ofSeconds(10));
            }
            assertThat(order).containsExactly("one", "two", "three");
        }

        @Test
        void noPermitBeforeTheDeadlineIsNotAdmittedForAnUnstartedItemAndAFailureOtherwise() throws Exception {
            var limit = new ServiceLimit("http://a:80", FixedLimit.of(1), 1, 1);
            Permit held = limit.acquire(Slot.HELD, Deadline.after(FAR), true);
            assertThatThrownBy(() -> limit.acquire(Slot.HELD, Deadline.after(Duration.ofMillis(20)), true))
                    .isInstanceOf(NotAdmittedException.class)
                    .hasMessage("no permit of http://a:80 came before the item's deadline");
            assertThatThrownBy(() -> limit.acquire(Slot.HELD, Deadline.after(Duration.ofMillis(20)), false))
                    .isInstanceOf(NoPermitException.class)
                    .hasMessage("no permit of http://a:80 came before the item's deadline");
            held.success();
            assertThat(limit.inflight()).isZero();
            limit.acquire(Slot.HELD, Deadline.after(FAR), true).success(); // no waiter was left behind
        }

        @Test
        void aWaiterInterruptedLeavesTheLineAndTakesNoPermit() throws Exception {
            var limit = new ServiceLimit("http://a:80", FixedLimit.of(1), 1, 1);
            Permit held = limit.acquire(Slot.HELD, Deadline.after(FAR), true);
            var failure = new Throwable[1];
            Thread t = Thread.ofVirtual().start(() -> {
                try {
                    limit.acquire(Slot.HELD, Deadline.after(FAR), true);
                } catch (Throwable e) {
                    failure[0] = e;
                }
            });
            untilWaiting(t);
            t.interrupt();
            t.join(Duration.ofSeconds(10));
            assertThat(failure[0]).isInstanceOf(InterruptedException.class)
                    .hasMessage("cancelled while waiting for a permit of http://a:80");
            held.success();
            assertThat(limit.inflight()).isZero();
        }
    }

    /**
     * Two services in one batch: one takes 10 requests at a time and hangs, one takes every request. The slow
     * service's 40 other items park without an engine place, so all ten items of the fast one run at once beside
     * the slow one's ten in flight, in a bound of 20. Without parking, the slow service's items would hold all 20
     * places and the fast ones' latch would give up after 10 s.
     */
    @Test
    void aSlowServicesWaitingItemsKeepNoOtherServicesItemsFromRunning() {
        var limits = new ServiceLimits(aimd(10, 1, 1000), service -> new ServiceLimit(service,
                FixedLimit.of(service.equals("slow") ? 10 : 1000), 1, 1000));
        List<String> items = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            items.add("slow");
        }
        for (int i = 0; i < 10; i++) {
            items.add("fast");
        }
        var slowAnswers = new CountDownLatch(1);
        var allFastRunning = new CountDownLatch(10);
        var slowInFlight = new AtomicInteger();
        var peakSlowInFlight = new AtomicInteger();

        BatchResult<String> result = new WorkerPool(Limits.of(20)).run(Batch.of(items), ctx -> {
            try (Permit permit = limits.acquire(ctx.item(), ctx.slot(), ctx.deadline(), true)) {
                if (ctx.item().equals("slow")) {
                    peakSlowInFlight.accumulateAndGet(slowInFlight.incrementAndGet(), Math::max);
                    if (!slowAnswers.await(10, TimeUnit.SECONDS)) {
                        throw new AssertionError("the fast service's items never ran");
                    }
                    slowInFlight.decrementAndGet();
                } else {
                    allFastRunning.countDown();
                    if (!allFastRunning.await(10, TimeUnit.SECONDS)) {
                        throw new AssertionError("the fast service's ten items never ran at once");
                    }
                    slowAnswers.countDown();
                }
                permit.success();
                return ctx.item();
            }
        }, Deadline.after(FAR));

        assertThat(result.outcomes()).allMatch(Outcome::isSuccess);
        assertThat(peakSlowInFlight.get()).isEqualTo(10);
        assertThat(result.summary().peakConcurrency()).isEqualTo(20);
        LimitReport report = limits.report();
        assertThat(report.services()).extracting(LimitReport.Service::service).containsExactlyInAnyOrder("slow", "fast");
        assertThat(report.waited()).isEqualTo(40);
    }

    @Test
    void anItemThatNeverGetsAPermitBeforeTheCutOffIsNotStarted() throws InterruptedException {
        var limits = new ServiceLimits(aimd(1, 1, 1), service -> new ServiceLimit(service, FixedLimit.of(1), 1, 1));
        var holderRunning = new CountDownLatch(1);
        var allEnded = new CountDownLatch(3);
        BatchResult<String> result = new WorkerPool(Limits.of(5)).run(Batch.of(List.of("hangs", "waits", "waits")),
                ctx -> {
                    try {
                        if (ctx.index() > 0) {
                            holderRunning.await(10, TimeUnit.SECONDS);
                        }
                        try (Permit permit = limits.acquire("svc", ctx.slot(), ctx.deadline(), true)) {
                            holderRunning.countDown();
                            new CountDownLatch(1).await(); // hangs until the cut-off interrupts it
                            return ctx.item();
                        }
                    } finally {
                        allEnded.countDown();
                    }
                }, Deadline.after(Duration.ofSeconds(2)));

        assertThat(result.outcome(0).status()).isEqualTo(Outcome.Status.TIMED_OUT);
        assertThat(result.outcome(1)).isEqualTo(new Outcome.NotStarted<String>(Outcome.NotStarted.Reason.NOT_ADMITTED,
                java.util.OptionalInt.empty()));
        assertThat(result.outcome(2)).isEqualTo(result.outcome(1));
        assertThat(allEnded.await(10, TimeUnit.SECONDS)).isTrue(); // the run does not wait for cancelled items to end
        assertThat(limits.of("svc").inflight()).isZero();
    }

    @Nested
    class TheRegistry {

        @Test
        void forgetsTheLeastRecentlyUsedServiceBeyondItsBound() throws Exception {
            var limits = new ServiceLimits(new LimitSettings(true, LimitAlgorithm.AIMD, 5, 1, 10, 2));
            ServiceLimit a = limits.of("a");
            limits.of("b");
            assertThat(limits.of("a")).isSameAs(a); // a is now the most recently used
            limits.of("c"); // b goes
            assertThat(limits.tracked()).isEqualTo(2);
            assertThat(limits.of("a")).isSameAs(a);
            assertThat(limits.of("b")).isNotSameAs(null);
            assertThat(limits.tracked()).isEqualTo(2);
        }

        @Test
        void aResetStartsEveryServiceAgainFromTheInitialLimit() throws Exception {
            var limits = new ServiceLimits(aimd(5, 1, 10));
            for (int i = 0; i < 200; i++) {
                limits.acquire("a", Slot.HELD, Deadline.after(FAR), true).dropped();
            }
            assertThat(limits.of("a").limit()).isEqualTo(1);
            limits.reset();
            assertThat(limits.tracked()).isZero();
            assertThat(limits.of("a").limit()).isEqualTo(5);
        }

        @Test
        void reportsEachPeriodOnceWithTheLowestAndHighestLimitInForce() throws Exception {
            var limits = new ServiceLimits(aimd(5, 1, 10));
            for (int i = 0; i < 3; i++) {
                limits.acquire("a", Slot.HELD, Deadline.after(FAR), true).success(); // 1 in flight of 5: no growth
            }
            for (int i = 0; i < 200; i++) {
                limits.acquire("b", Slot.HELD, Deadline.after(FAR), true).dropped();
            }
            LimitReport report = limits.report();
            assertThat(report.services()).containsExactlyInAnyOrder(
                    new LimitReport.Service("a", 5, 5, 5, 5, 0),
                    new LimitReport.Service("b", 5, 1, 1, 5, 0));
            assertThat(report.lowest()).isEqualTo(1);
            assertThat(report.highest()).isEqualTo(5);
            assertThat(limits.report()).isEqualTo(LimitReport.EMPTY); // nothing used since
        }

        @Test
        void whenOffEveryPermitIsGrantedAtOnceAndNothingIsTracked() throws Exception {
            var limits = new ServiceLimits(new LimitSettings(false, LimitAlgorithm.AIMD, 1, 1, 1, 1));
            for (int i = 0; i < 5; i++) {
                assertThat(limits.acquire("a", Slot.HELD, Deadline.after(FAR), true)).isSameAs(Permit.NONE);
            }
            assertThat(limits.tracked()).isZero();
            assertThat(limits.report()).isEqualTo(LimitReport.EMPTY);
        }

        @Test
        void aServiceIsItsSchemeHostAndPort() {
            assertThat(ServiceLimits.serviceOf(URI.create("https://API.example.org/v1?x=1"))).isEqualTo(
                    "https://api.example.org:443");
            assertThat(ServiceLimits.serviceOf(URI.create("http://127.0.0.1:8080/a"))).isEqualTo("http://127.0.0.1:8080");
            assertThat(ServiceLimits.serviceOf(URI.create("http://example.org/"))).isEqualTo("http://example.org:80");
        }
    }

    @Test
    void settingsOutOfBoundsAreRefusedWithTheirReason() {
        assertThatThrownBy(() -> new LimitSettings(true, LimitAlgorithm.AIMD, 5, 0, 10, 1))
                .hasMessage("the minimum limit must be at least 1, was 0");
        assertThatThrownBy(() -> new LimitSettings(true, LimitAlgorithm.AIMD, 5, 6, 5, 1))
                .hasMessage("the maximum limit (5) is below the minimum (6)");
        assertThatThrownBy(() -> new LimitSettings(true, LimitAlgorithm.AIMD, 11, 1, 10, 1))
                .hasMessage("the initial limit (11) is outside [1, 10], the minimum and maximum");
        assertThatThrownBy(() -> new LimitSettings(true, LimitAlgorithm.AIMD, 5, 1, 10, 0))
                .hasMessage("the services tracked must be at least 1, was 0");
        assertThatThrownBy(() -> LimitAlgorithm.of("cubic"))
                .hasMessage("unknown algorithm 'cubic': aimd, vegas or gradient2");
        assertThat(LimitAlgorithm.of(" Gradient2 ")).isEqualTo(LimitAlgorithm.GRADIENT2);
        assertThat(new LimitSettings(true, LimitAlgorithm.AIMD, 20, 5, 2000, 1).boundedBy(500))
                .isEqualTo(new LimitSettings(true, LimitAlgorithm.AIMD, 20, 5, 500, 1));
        assertThat(new LimitSettings(true, LimitAlgorithm.AIMD, 20, 5, 2000, 1).boundedBy(3))
                .isEqualTo(new LimitSettings(true, LimitAlgorithm.AIMD, 3, 3, 3, 1));
    }

    /** Returns once {@code thread} sleeps with a timeout (waiting in line for a permit), or after 10 s. */
    static void untilWaiting(Thread thread) {
        long giveUpAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (thread.getState() != Thread.State.TIMED_WAITING && System.nanoTime() - giveUpAt < 0) {
            Thread.onSpinWait();
        }
    }
}

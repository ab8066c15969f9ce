package dev.fanout.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.fanout.bench.Strategies.Spec;
import dev.fanout.bench.Strategy.Tally;
import dev.fanout.bench.Strategy.Task;
import dev.fanout.engine.Batch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.RunSummary;
import dev.fanout.engine.WorkerPool;

/**
 * Workload 4, deadline precision: a batch in which some items hang past the cut-off, some of them until
 * interrupted and some ignoring interrupts. Fanout's return is timed against its cut-off and deadline over
 * many runs; the other strategies, which have no deadline, are watched for twice the deadline and then
 * released.
 */
public final class DeadlineWorkload implements Workload {

    /**
     * @param items       batch size; every 10th item (index 3 mod 10) hangs until interrupted, every 10th
     *                    (index 7 mod 10) hangs ignoring interrupts, the rest sleep {@code shortItem}
     * @param concurrency C
     * @param deadline    the invocation's time left when the batch starts
     * @param margin      Fanout's cut-off margin: the cut-off is the deadline minus this
     * @param graces      Fanout's cancel grace settings to measure
     * @param shortItem   what a normal item takes
     * @param fanoutRuns  measured runs per grace setting
     */
    public record Settings(int items, int concurrency, Duration deadline, Duration margin, List<Duration> graces,
            Duration shortItem, int fanoutRuns) {
        public static final Settings FULL = new Settings(200, 1_000, Duration.ofMillis(500), Duration.ofMillis(100),
                List.of(Duration.ZERO, Duration.ofMillis(50)), Duration.ofMillis(10), 20);
        public static final Settings SMOKE = new Settings(20, 10, Duration.ofMillis(80), Duration.ofMillis(30),
                List.of(Duration.ZERO, Duration.ofMillis(10)), Duration.ofMillis(2), 2);
    }

    /** One Fanout run: when it returned, relative to its cut-off and deadline, and what became of the items. */
    public record FanoutRun(long graceMillis, long afterCutoffNanos, long beforeDeadlineNanos, int succeeded,
            int timedOut, int notStarted, int abandoned) {
    }

    /** One run of another strategy under the watchdog. */
    public record OtherRun(String strategy, boolean returnedInTime, long afterReleaseNanos, long totalNanos,
            int succeeded, int failed) {
    }

    private final Settings settings;

    public DeadlineWorkload(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String id() {
        return "deadline";
    }

    @Override
    public ReportSection run(SuiteContext context) throws Exception {
        Options options = Options.builder()
                .put("items", settings.items())
                .put("concurrency", settings.concurrency())
                .put("deadlineMillis", settings.deadline().toMillis())
                .put("marginMillis", settings.margin().toMillis())
                .put("graceMillis", String.join(",", settings.graces().stream().map(g -> String.valueOf(g.toMillis())).toList()))
                .put("shortMillis", settings.shortItem().toMillis())
                .put("fanoutRuns", settings.fanoutRuns())
                .put("repetitions", context.repetitions())
                .build();
        ChildJvm.Output output = context.jvm().run(id(), options, java.time.Duration.ofMinutes(10));
        List<FanoutRun> fanout = output.all("fanout", FanoutRun.class);
        List<OtherRun> others = output.all("other", OtherRun.class);
        fanout.forEach(r -> context.log().accept(String.format(Locale.ROOT,
                "deadline fanout grace %d ms: returned %.3f ms after the cut-off, %.3f ms before the deadline",
                r.graceMillis(), r.afterCutoffNanos() / 1e6, r.beforeDeadlineNanos() / 1e6)));
        others.forEach(r -> context.log().accept(String.format(Locale.ROOT,
                "deadline %-16s returned in time: %s, %.1f ms after release", r.strategy(), r.returnedInTime(),
                r.afterReleaseNanos() / 1e6)));
        return render(fanout, others);
    }

    // ---------------------------------------------------------------- child side

    /** Items of one run, some of which hang until {@link #release}. */
    private static final class HangingBatch {

        private final CountDownLatch gate = new CountDownLatch(1);
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition idle = lock.newCondition();
        private int running; // guarded by lock

        Task<Integer> task(Duration shortItem) {
            return item -> {
                changeRunning(+1);
                try {
                    switch (item % 10) {
                        case 3 -> gate.await();
                        case 7 -> awaitIgnoringInterrupts();
                        default -> Thread.sleep(shortItem);
                    }
                    return item;
                } finally {
                    changeRunning(-1);
                }
            };
        }

        private void awaitIgnoringInterrupts() {
            boolean interrupted = false;
            while (true) {
                try {
                    gate.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        private void changeRunning(int by) {
            lock.lock();
            try {
                running += by;
                if (running == 0) {
                    idle.signalAll();
                }
            } finally {
                lock.unlock();
            }
        }

        /** Lets every hung item finish and waits until none runs, so that runs do not overlap. */
        void release() throws InterruptedException {
            gate.countDown();
            lock.lock();
            try {
                long left = TimeUnit.SECONDS.toNanos(30);
                while (running > 0) {
                    if (left <= 0) {
                        throw new IllegalStateException(running + " items still running 30 s after their release");
                    }
                    left = idle.awaitNanos(left);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    @Override
    public void child(Options options) throws Exception {
        List<Integer> items = IoWorkload.range(options.intValue("items"));
        int concurrency = options.intValue("concurrency");
        Duration deadline = Duration.ofMillis(options.longValue("deadlineMillis"));
        Duration margin = Duration.ofMillis(options.longValue("marginMillis"));
        Duration shortItem = Duration.ofMillis(options.longValue("shortMillis"));
        int fanoutRuns = options.intValue("fanoutRuns");

        for (String grace : options.get("graceMillis").split(",")) {
            Limits limits = Limits.of(concurrency).withCutoffMargin(margin)
                    .withCancelGrace(Duration.ofMillis(Long.parseLong(grace)));
            for (int run = -3; run < fanoutRuns; run++) { // three unmeasured runs warm the engine up
                FanoutRun figures = runFanout(items, new WorkerPool(limits), limits, deadline, shortItem);
                if (run >= 0) {
                    ResultLine.emit("fanout", figures);
                }
            }
        }
        // first use of a strategy loads and initialises its classes (Mutiny's infrastructure takes the better part
        // of a second): warm each one up on short items, so the watched runs time the strategy, not the class path
        for (Spec spec : Strategies.ALL) {
            try (Strategy strategy = spec.create(concurrency)) {
                strategy.run(items, item -> {
                    Thread.sleep(shortItem);
                    return item;
                });
            }
        }
        for (int rep = 0; rep < options.intValue("repetitions"); rep++) {
            for (Spec spec : Strategies.ALL) {
                if (spec != Strategies.FANOUT) {
                    ResultLine.emit("other", runWatched(spec, concurrency, items, deadline.multipliedBy(2), shortItem));
                }
            }
        }
    }

    private static FanoutRun runFanout(List<Integer> items, WorkerPool pool, Limits limits, Duration timeLeft,
            Duration shortItem) throws InterruptedException {
        HangingBatch batch = new HangingBatch();
        Task<Integer> task = batch.task(shortItem);
        Deadline deadline = Deadline.after(timeLeft);
        long cutoff = deadline.nanos() - limits.cutoffMargin().toNanos();
        RunSummary summary = pool.run(Batch.of(items), ctx -> task.run(ctx.item()),
                deadline).summary();
        long returned = System.nanoTime();
        batch.release();
        return new FanoutRun(limits.cancelGrace().toMillis(), returned - cutoff, deadline.nanos() - returned,
                summary.succeeded(), summary.timedOut(), summary.notStarted(), summary.abandoned());
    }

    /** Runs {@code spec} on a platform thread; releases the hung items if it has not returned by {@code watchdog}. */
    private static OtherRun runWatched(Spec spec, int concurrency, List<Integer> items, Duration watchdog,
            Duration shortItem) throws Exception {
        HangingBatch batch = new HangingBatch();
        Task<Integer> task = batch.task(shortItem);
        try (Strategy strategy = spec.create(concurrency)) {
            long start = System.nanoTime();
            CompletableFuture<Tally> done = CompletableFuture.supplyAsync(() -> {
                try {
                    return strategy.run(items, task);
                } catch (Exception e) {
                    throw new CompletionException(e);
                }
            }, r -> Thread.ofPlatform().name("watched-" + spec.id()).start(r));
            boolean inTime;
            try {
                done.get(watchdog.toNanos(), TimeUnit.NANOSECONDS);
                inTime = true;
            } catch (TimeoutException e) {
                inTime = false;
            }
            long released = System.nanoTime();
            batch.release();
            Tally tally = done.get(60, TimeUnit.SECONDS);
            long end = System.nanoTime();
            return new OtherRun(spec.id(), inTime, inTime ? 0 : end - released, end - start, tally.succeeded(),
                    tally.failed());
        }
    }

    // ---------------------------------------------------------------- report

    private ReportSection render(List<FanoutRun> fanout, List<OtherRun> others) {
        List<List<String>> fanoutRows = new ArrayList<>();
        long late = fanout.stream().filter(r -> r.beforeDeadlineNanos() < 0).count();
        for (Duration grace : settings.graces()) {
            List<FanoutRun> runs = fanout.stream().filter(r -> r.graceMillis() == grace.toMillis()).toList();
            Stats after = Stats.of(runs.stream().map(r -> r.afterCutoffNanos() / 1e6).toList());
            Stats left = Stats.of(runs.stream().map(r -> r.beforeDeadlineNanos() / 1e6).toList());
            fanoutRows.add(List.of(grace.toMillis() + " ms", Markdown.integer(runs.size()), Markdown.num(after.min()),
                    Markdown.num(after.median()), Markdown.num(after.p95()), Markdown.num(after.max()),
                    Markdown.num(left.min()),
                    Markdown.integer(runs.stream().filter(r -> r.beforeDeadlineNanos() < 0).count()),
                    medianOf(runs, FanoutRun::succeeded) + " / " + medianOf(runs, FanoutRun::timedOut) + " / "
                            + medianOf(runs, FanoutRun::abandoned)));
        }

        Map<String, List<OtherRun>> byStrategy = new LinkedHashMap<>();
        others.forEach(r -> byStrategy.computeIfAbsent(r.strategy(), k -> new ArrayList<>()).add(r));
        List<List<String>> otherRows = new ArrayList<>();
        long otherInTime = 0;
        for (var entry : byStrategy.entrySet()) {
            List<OtherRun> runs = entry.getValue();
            long inTime = runs.stream().filter(OtherRun::returnedInTime).count();
            otherInTime += inTime;
            List<OtherRun> released = runs.stream().filter(r -> !r.returnedInTime()).toList();
            otherRows.add(List.of(Strategies.byId(entry.getKey()).label(),
                    inTime + " of " + runs.size(),
                    released.isEmpty() ? "–"
                            : Markdown.range(Stats.of(released.stream().map(r -> r.afterReleaseNanos() / 1e6).toList())),
                    Markdown.range(Stats.of(runs.stream().map(r -> r.totalNanos() / 1e6).toList())),
                    medianOf(runs, OtherRun::succeeded) + " / " + medianOf(runs, OtherRun::failed)));
        }

        long deadlineMs = settings.deadline().toMillis();
        long marginMs = settings.margin().toMillis();
        StringBuilder perGrace = new StringBuilder();
        for (Duration grace : settings.graces()) {
            Stats after = Stats.of(fanout.stream().filter(r -> r.graceMillis() == grace.toMillis())
                    .map(r -> r.afterCutoffNanos() / 1e6).toList());
            perGrace.append(perGrace.isEmpty() ? "" : "; ").append(String.format(Locale.ROOT,
                    "with a %d ms cancel grace %s ms after its cut-off (median; max %s ms)", grace.toMillis(),
                    Markdown.num(after.median()), Markdown.num(after.max())));
        }
        Stats left = Stats.of(fanout.stream().map(r -> r.beforeDeadlineNanos() / 1e6).toList());
        String key = String.format(Locale.ROOT,
                "Deadline: over %d runs with hung items Fanout returned %s; %s after the deadline (least time "
                        + "left %s ms); the other strategies returned within 2 x deadline in %d of %d runs.",
                fanout.size(), perGrace, late == 0 ? "never" : late + " times", Markdown.num(left.min()),
                otherInTime, others.size());

        String md = """
                A batch of %s items at C = %s, started with %s ms left before the deadline. Items 3, 13, 23, … \
                block until interrupted (`CountDownLatch.await()`); items 7, 17, 27, … block and ignore interrupts \
                (they catch `InterruptedException` and wait again); the other items sleep %s ms. Fanout runs with \
                a cut-off margin of %s ms (cut-off = deadline − %s ms) and each cancel grace below; figures are \
                (return time − cut-off) per run, measured in a child JVM after three unmeasured runs. The \
                outcomes column is the median per run of succeeded / timed out / abandoned (still running, \
                ignoring their interrupt, when the run returned).

                %s
                The other strategies have no deadline. Each ran the same batch on a watchdog thread; after 2 × \
                deadline (%s ms) the watchdog released the hung items, and the strategy returned only then.

                %s
                **For a Lambda user.** The invocation's deadline is `context.getRemainingTimeInMillis()`. Fanout \
                stops starting items at the cut-off, interrupts what runs, waits at most the grace (never past the \
                deadline) and returns the outcomes it has: finished items keep their results, the rest are reported \
                as timed out or not started, and there is time left (the margin) to send results and report \
                partial batch failures. A strategy without a deadline keeps waiting on a hung call until Lambda \
                kills the invocation at its timeout: the whole batch counts as failed and is retried, finished \
                items included, and the full timeout is billed. Items that ignore interrupts keep running after \
                Fanout returns (abandoned); give I/O its own timeouts from `ctx.remaining()` so that they end too.

                """.formatted(Markdown.integer(settings.items()), Markdown.integer(settings.concurrency()), deadlineMs,
                settings.shortItem().toMillis(), marginMs, marginMs,
                Markdown.table(List.of("Cancel grace", "Runs", "Min, ms", "Median, ms", "p95, ms", "Max, ms",
                        "Least time left at return, ms", "Returns after deadline", "Outcomes (ok / timed out / abandoned)"),
                        fanoutRows),
                2 * deadlineMs,
                Markdown.table(List.of("Strategy", "Returned within 2 × deadline", "Returned after release, ms",
                        "Total time, ms", "Outcomes (ok / failed)"), otherRows));
        return new ReportSection(id(), "4. Deadline precision", List.of(key), md, List.of());
    }

    private static <T> String medianOf(List<T> runs, java.util.function.ToIntFunction<T> f) {
        return Markdown.num(Stats.of(runs.stream().mapToDouble(f::applyAsInt).toArray()).median());
    }
}

package dev.fanout.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

import dev.fanout.engine.Batch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.RunSummary;
import dev.fanout.engine.WorkerPool;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;

/**
 * The compared strategies, each as a user would write it. {@link #ALL} is also the order of every table.
 */
public final class Strategies {

    /**
     * One strategy as the report names it.
     *
     * @param id      short name for command lines and result lines
     * @param label   name in the tables
     * @param how     one line on how it is built, for the report
     * @param bounded whether it honours the concurrency setting
     * @param factory builds it for a concurrency setting (ignored by strategies with a fixed size)
     */
    public record Spec(String id, String label, String how, boolean bounded, IntFunction<Strategy> factory) {

        public Strategy create(int concurrency) {
            return factory.apply(concurrency);
        }
    }

    /** Processor count of this JVM: the size of the "pool sized to the cores". */
    public static final int CORES = Runtime.getRuntime().availableProcessors();

    public static final Spec FANOUT = new Spec("fanout", "Fanout `WorkerPool`",
            "`new WorkerPool(Limits.of(C)).run(Batch.of(items), ctx -> task(ctx.item()), deadline)`: one virtual "
                    + "thread per started item, at most C at once", true, Fanout::new);

    public static final List<Spec> ALL = List.of(
            FANOUT,
            new Spec("vt-semaphore", "Bare virtual threads + semaphore",
                    "a `Semaphore(C)` acquired before `newVirtualThreadPerTaskExecutor().execute(item)` and released "
                            + "after it, a latch for the end: the floor a bounded engine is measured against", true,
                    BareVirtualThreads::new),
            new Spec("mutiny", "Mutiny `merge(C)`",
                    "`Multi.createFrom().iterable(items).onItem().transformToUni(i -> Uni...runSubscriptionOn(vt))"
                            + ".merge(C).collect().asList()`, `vt` a virtual-thread-per-task executor", true,
                    MutinyMerge::new),
            new Spec("cf-virtual", "`runAsync` on virtual threads",
                    "`CompletableFuture.runAsync(item, newVirtualThreadPerTaskExecutor())` for every item, then "
                            + "`allOf(...).join()`: Powertools' executor overload, no bound", false,
                    c -> new CompletableFutures()),
            new Spec("pool-200", "Fixed pool, 200 threads", "`Executors.newFixedThreadPool(200).invokeAll(...)`",
                    false, c -> new FixedPool(200)),
            new Spec("pool-cores", "Fixed pool, " + CORES + " threads (cores)",
                    "`Executors.newFixedThreadPool(availableProcessors()).invokeAll(...)`", false,
                    c -> new FixedPool(CORES)),
            new Spec("parallel-stream", "Parallel stream (Powertools default)",
                    "`items.parallelStream().map(item -> processBatchItem(...))`, failures collected: Powertools' "
                            + "`processBatchInParallel(event, context)`, on the common ForkJoinPool", false,
                    c -> new ParallelStream()),
            new Spec("sequential", "Sequential", "a `for` loop, each item in its own try/catch", false,
                    c -> new Sequential()));

    /** The deadline the throughput workloads give Fanout: far beyond any run, so it never cuts off. */
    static final Duration NO_DEADLINE = Duration.ofHours(1);

    private Strategies() {
    }

    public static Spec byId(String id) {
        return ALL.stream().filter(s -> s.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown strategy '" + id + "'"));
    }

    /** Fanout's engine, with no cut-off margin and a deadline that never comes during the run. */
    static final class Fanout implements Strategy {

        private final WorkerPool pool;

        Fanout(int concurrency) {
            pool = new WorkerPool(Limits.of(concurrency));
        }

        @Override
        public <T> Tally run(List<T> items, Task<T> task) {
            RunSummary summary = pool.run(Batch.of(items), ctx -> task.run(ctx.item()),
                    Deadline.after(NO_DEADLINE)).summary();
            return new Tally(summary.succeeded(), summary.items() - summary.succeeded());
        }

        @Override
        public void close() {
            // a WorkerPool holds no threads between runs
        }
    }

    /** The bare minimum of a bound on virtual threads: no deadline, no outcomes by index, no groups. */
    static final class BareVirtualThreads implements Strategy {

        private final Semaphore permits;
        private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

        BareVirtualThreads(int concurrency) {
            permits = new Semaphore(concurrency);
        }

        @Override
        public <T> Tally run(List<T> items, Task<T> task) throws InterruptedException {
            var done = new CountDownLatch(items.size());
            var failed = new AtomicInteger();
            for (T item : items) {
                permits.acquire();
                executor.execute(() -> {
                    try {
                        if (Strategy.attempt(task, item).isPresent()) {
                            failed.incrementAndGet();
                        }
                    } finally {
                        permits.release();
                        done.countDown();
                    }
                });
            }
            done.await();
            return new Tally(items.size() - failed.get(), failed.get());
        }

        @Override
        public void close() {
            executor.close();
        }
    }

    /** Mutiny's bounded merge: each item a Uni subscribed on a virtual thread, at most C subscribed at once. */
    static final class MutinyMerge implements Strategy {

        private final int concurrency;
        private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

        MutinyMerge(int concurrency) {
            this.concurrency = concurrency;
        }

        @Override
        public <T> Tally run(List<T> items, Task<T> task) {
            List<Boolean> succeeded = Multi.createFrom().iterable(items)
                    .onItem().transformToUni(item -> Uni.createFrom().emitter(emitter -> {
                        try {
                            emitter.complete(task.run(item));
                        } catch (Exception failure) {
                            emitter.fail(failure);
                        }
                    }).runSubscriptionOn(executor).onItemOrFailure().transform((value, failure) -> failure == null))
                    .merge(concurrency)
                    .collect().asList()
                    .await().indefinitely();
            int ok = (int) succeeded.stream().filter(Boolean::booleanValue).count();
            return new Tally(ok, items.size() - ok);
        }

        @Override
        public void close() {
            executor.close();
        }
    }

    /**
     * Powertools' {@code processBatchInParallel(event, context, executor)} with a virtual-thread executor:
     * one {@code runAsync} per item, failures collected, all joined. Nothing bounds how many run at once.
     */
    static final class CompletableFutures implements Strategy {

        private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

        @Override
        public <T> Tally run(List<T> items, Task<T> task) {
            Queue<Exception> failures = new ConcurrentLinkedQueue<>();
            CompletableFuture<?>[] futures = items.stream()
                    .map(item -> CompletableFuture.runAsync(() -> Strategy.attempt(task, item).ifPresent(failures::add),
                            executor))
                    .toArray(CompletableFuture[]::new);
            CompletableFuture.allOf(futures).join();
            return new Tally(items.size() - failures.size(), failures.size());
        }

        @Override
        public void close() {
            executor.close();
        }
    }

    /** A fixed pool of platform threads, kept between batches; {@code invokeAll} waits for every item. */
    static final class FixedPool implements Strategy {

        private final ExecutorService pool;

        FixedPool(int threads) {
            pool = Executors.newFixedThreadPool(threads);
        }

        @Override
        public <T> Tally run(List<T> items, Task<T> task) throws Exception {
            List<Callable<Boolean>> calls = new ArrayList<>(items.size());
            for (T item : items) {
                calls.add(() -> Strategy.attempt(task, item).isEmpty());
            }
            int ok = 0;
            for (Future<Boolean> done : pool.invokeAll(calls)) {
                ok += done.get() ? 1 : 0;
            }
            return new Tally(ok, items.size() - ok);
        }

        @Override
        public void close() {
            pool.close();
        }
    }

    /**
     * The strategy of Powertools for AWS Lambda (Java) batch, {@code processBatchInParallel(event, context)}:
     * a parallel stream over the records on the common ForkJoinPool, each record mapped through the
     * handler in its own try/catch, the failures collected. There is no deadline.
     */
    static final class ParallelStream implements Strategy {

        @Override
        public <T> Tally run(List<T> items, Task<T> task) {
            List<Exception> failures = items.parallelStream()
                    .map(item -> Strategy.attempt(task, item))
                    .filter(Optional::isPresent)
                    .map(Optional::get)
                    .toList();
            return new Tally(items.size() - failures.size(), failures.size());
        }

        @Override
        public void close() {
            // the common pool is the JVM's
        }
    }

    /** One item after the other on the calling thread. */
    static final class Sequential implements Strategy {

        @Override
        public <T> Tally run(List<T> items, Task<T> task) {
            int failed = 0;
            for (T item : items) {
                failed += Strategy.attempt(task, item).isPresent() ? 1 : 0;
            }
            return new Tally(items.size() - failed, failed);
        }

        @Override
        public void close() {
        }
    }
}

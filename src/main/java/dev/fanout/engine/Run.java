package dev.fanout.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.fanout.engine.Cancellation.Cause;
import dev.fanout.engine.Outcome.Failed;
import dev.fanout.engine.Outcome.NotStarted;
import dev.fanout.engine.Outcome.Rejected;
import dev.fanout.engine.Outcome.Succeeded;
import dev.fanout.engine.Outcome.TimedOut;
import dev.fanout.engine.Outcome.Timing;
import io.smallrye.mutiny.subscription.Cancellable;

/**
 * The state of one run. The calling thread is the only dispatcher: it starts items, fires timeouts
 * and cuts off; item threads only report completions. All bookkeeping is guarded by {@link #lock};
 * outcomes are set by compare-and-set, so the first outcome of an item is its only one.
 */
final class Run<I, R> {

    private final Batch<I> batch;
    private final ItemHandler<I, R> handler;
    private final int maxConcurrency;
    private final long itemTimeoutNanos;
    private final long cancelGraceNanos;
    private final Ticker ticker;
    private final Deadline deadline;
    private final Deadline cutoff;
    private final int size;

    private final AtomicReferenceArray<Outcome<R>> outcomes;
    private final int[] nextInGroup;
    private final long startedNanos;
    private final Instant startedAt;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // guarded by lock
    private final PriorityQueue<Integer> ready = new PriorityQueue<>();
    // nanoTime readings compare by their difference, which stays right across a wrap of the counter
    private final PriorityQueue<Worker> timeouts = new PriorityQueue<>((a, b) -> Long.compare(a.timeoutAt - b.timeoutAt, 0));
    private final Worker[] holding;
    private int active;
    private int peak;
    private int decided;

    Run(Batch<I> batch, ItemHandler<I, R> handler, Limits limits, Ticker ticker, Deadline deadline) {
        this.batch = batch;
        this.handler = handler;
        this.maxConcurrency = limits.maxConcurrency();
        this.itemTimeoutNanos = limits.itemTimeout().map(Deadline::saturatedNanos).orElse(0L);
        this.cancelGraceNanos = Deadline.saturatedNanos(limits.cancelGrace());
        this.ticker = ticker;
        this.deadline = deadline;
        this.cutoff = deadline.minus(limits.cutoffMargin());
        this.size = batch.size();
        this.outcomes = new AtomicReferenceArray<>(size);
        this.nextInGroup = new int[size];
        this.holding = new Worker[size];
        this.startedNanos = ticker.nanoTime();
        this.startedAt = Instant.now();
    }

    BatchResult<R> execute() {
        Runnable unsubscribe = ticker.onAdvance(this::wake);
        boolean interrupted;
        int abandoned;
        lock.lock();
        try {
            queueGroupHeads();
            interrupted = dispatch();
            abandoned = cancelledButRunning();
        } finally {
            lock.unlock();
            unsubscribe.run();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return result(abandoned);
    }

    /** Every ungrouped item and the first item of each group are ready; the rest wait for their predecessor. */
    private void queueGroupHeads() {
        Map<String, Integer> lastOfGroup = new HashMap<>();
        Arrays.fill(nextInGroup, -1);
        for (int i = 0; i < size; i++) {
            String group = batch.groupOf(i);
            Integer previous = group == null ? null : lastOfGroup.put(group, i);
            if (previous == null) {
                ready.add(i);
            } else {
                nextInGroup[previous] = i;
            }
        }
    }

    /** The dispatcher loop; returns true if the calling thread was interrupted. */
    private boolean dispatch() {
        while (decided < size) {
            long now = ticker.nanoTime();
            if (now - cutoff.nanos() >= 0) {
                cutOff(now);
                return awaitCancelled(now);
            }
            expireItemTimeouts(now);
            if (active < maxConcurrency && !ready.isEmpty()) {
                start(ready.poll(), now);
                continue;
            }
            if (decided == size) {
                break;
            }
            long wakeAt = cutoff.nanos();
            Worker next = nextTimeout();
            if (next != null && next.timeoutAt - wakeAt < 0) {
                wakeAt = next.timeoutAt;
            }
            try {
                changed.awaitNanos(wakeAt - now);
            } catch (InterruptedException e) {
                // the invocation is being shut down: cut off now, like a cancelled parent context
                now = ticker.nanoTime();
                cutOff(now);
                awaitCancelled(now);
                return true;
            }
        }
        return false;
    }

    private void start(int index, long now) {
        Deadline itemDeadline = cutoff;
        long timeoutAt = Long.MAX_VALUE;
        if (itemTimeoutNanos > 0 && now + itemTimeoutNanos - cutoff.nanos() < 0) {
            timeoutAt = now + itemTimeoutNanos;
            itemDeadline = Deadline.atNanos(ticker, timeoutAt);
        }
        Worker worker = new Worker(index, now, itemDeadline, timeoutAt);
        holding[index] = worker;
        active++;
        peak = Math.max(peak, active);
        if (timeoutAt != Long.MAX_VALUE) {
            timeouts.add(worker);
        }
        Thread thread = Thread.ofVirtual().name("fanout-item-" + index).unstarted(() -> work(worker));
        worker.thread = thread;
        thread.start();
    }

    /** Runs on the item's virtual thread. */
    private void work(Worker worker) {
        var context = new ItemContext<>(batch.items().get(worker.index), worker.index, worker.deadline,
                worker.cancellation);
        try {
            switch (handler) {
                case ItemHandler.Blocking<I, R> blocking -> finish(worker, blocking.handle(context), null);
                case ItemHandler.Async<I, R> async -> subscribe(worker, async.handle(context));
            }
        } catch (Throwable failure) {
            finish(worker, null, failure);
        } finally {
            releaseHold(worker);
        }
    }

    private void subscribe(Worker worker, io.smallrye.mutiny.Uni<R> uni) {
        if (uni == null) {
            throw new NullPointerException("async handler returned null instead of a Uni");
        }
        // hold the slot before subscribing: the Uni may complete inside subscribe(), on this thread
        worker.holds.incrementAndGet();
        worker.uniPending.set(true);
        Cancellable subscription;
        try {
            subscription = uni.subscribe().with(
                    value -> {
                        finish(worker, value, null);
                        releaseUniHold(worker);
                    },
                    failure -> {
                        finish(worker, null, failure);
                        releaseUniHold(worker);
                    });
        } catch (RuntimeException | Error e) {
            releaseUniHold(worker);
            throw e;
        }
        worker.cancellation.onCancel(() -> {
            subscription.cancel();
            releaseUniHold(worker);
        });
    }

    private void releaseUniHold(Worker worker) {
        if (worker.uniPending.compareAndSet(true, false)) {
            releaseHold(worker);
        }
    }

    /** The item's slot is free once its thread has returned and its Uni, if any, has ended or been cancelled. */
    private void releaseHold(Worker worker) {
        if (worker.holds.decrementAndGet() != 0) {
            return;
        }
        lock.lock();
        try {
            active--;
            holding[worker.index] = null;
            int next = worker.handOver ? nextInGroup[worker.index] : -1;
            if (next >= 0 && outcomes.get(next) == null) {
                ready.add(next);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void finish(Worker worker, R value, Throwable failure) {
        long now = ticker.nanoTime();
        Timing timing = timing(worker, now);
        Outcome<R> outcome = failure == null ? new Succeeded<>(value, timing) : classify(failure, timing);
        if (outcomes.get(worker.index) != null) {
            return; // timed out already: a late result never replaces the outcome
        }
        lock.lock();
        try {
            if (decide(worker.index, outcome)) {
                if (batch.haltsGroup(outcome)) {
                    haltGroupAfter(worker.index);
                } else {
                    // the group's next item starts when this one's slot is free, not while its thread is still
                    // on the way out: two items of a group never hold slots at once, and peakConcurrency is true
                    worker.handOver = true;
                }
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    static <R> Outcome<R> classify(Throwable failure, Timing timing) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return switch (cause) {
            case RejectedItemException rejected -> new Rejected<>(rejected.getMessage(), timing);
            case NonRetryableException permanent -> new Failed<>(permanent, false, timing);
            default -> new Failed<>(cause, true, timing);
        };
    }

    /** Sets the outcome of {@code index} if it has none yet. Caller holds the lock. */
    private boolean decide(int index, Outcome<R> outcome) {
        if (!outcomes.compareAndSet(index, null, outcome)) {
            return false;
        }
        decided++;
        return true;
    }

    /** The later items of a group stopped by one of its items never start. Caller holds the lock. */
    private void haltGroupAfter(int index) {
        for (int next = nextInGroup[index]; next >= 0; next = nextInGroup[next]) {
            decide(next, NotStarted.groupHaltedBy(index));
        }
    }

    private void expireItemTimeouts(long now) {
        Worker worker;
        while ((worker = nextTimeout()) != null && worker.timeoutAt - now <= 0) {
            timeouts.poll();
            if (decide(worker.index, new TimedOut<>(Cause.ITEM_TIMEOUT, timing(worker, now)))) {
                haltGroupAfter(worker.index);
            }
            cancel(worker, Cause.ITEM_TIMEOUT);
        }
    }

    /** The running item whose timeout comes first, dropping finished ones. Caller holds the lock. */
    private Worker nextTimeout() {
        Worker worker;
        while ((worker = timeouts.peek()) != null && outcomes.get(worker.index) != null) {
            timeouts.poll();
        }
        return worker;
    }

    /** Nothing starts any more: running items time out and are cancelled, the rest are not started. */
    private void cutOff(long now) {
        for (int i = 0; i < size; i++) {
            if (outcomes.get(i) == null) {
                Worker worker = holding[i];
                decide(i, worker != null ? new TimedOut<>(Cause.CUT_OFF, timing(worker, now)) : NotStarted.cutOff());
            }
        }
        for (Worker worker : holding) {
            if (worker != null) {
                cancel(worker, Cause.CUT_OFF);
            }
        }
    }

    private void cancel(Worker worker, Cause cause) {
        // flag first, so that a handler woken by the interrupt sees why
        if (!worker.cancellation.markCancelled(cause)) {
            return;
        }
        Thread thread = worker.thread;
        if (thread != null) {
            thread.interrupt();
        }
        if (worker.cancellation.hasCallbacks()) {
            // handler callbacks may be slow: never let them hold up the dispatcher and its deadline
            Thread.ofVirtual().name("fanout-cancel-" + worker.index).start(worker.cancellation::runCallbacks);
        }
    }

    /** After a cut-off, waits up to the grace (never past the deadline) for cancelled items to stop. */
    private boolean awaitCancelled(long cutAt) {
        long until = cutAt + cancelGraceNanos;
        if (until - deadline.nanos() > 0) {
            until = deadline.nanos();
        }
        boolean interrupted = false;
        while (active > 0) {
            long wait = until - ticker.nanoTime();
            if (wait <= 0) {
                break;
            }
            try {
                changed.awaitNanos(wait);
            } catch (InterruptedException e) {
                interrupted = true;
                break;
            }
        }
        return interrupted;
    }

    /** Items that were cancelled but whose handler has not returned (an item just finishing is not one). */
    private int cancelledButRunning() {
        int count = 0;
        for (Worker worker : holding) {
            if (worker != null && worker.cancellation.isCancelled()) {
                count++;
            }
        }
        return count;
    }

    private void wake() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private Timing timing(Worker worker, long now) {
        return new Timing(startedAt.plusNanos(worker.startNanos - startedNanos), Duration.ofNanos(now - worker.startNanos));
    }

    private BatchResult<R> result(int abandoned) {
        long now = ticker.nanoTime();
        List<Outcome<R>> list = new ArrayList<>(size);
        int[] counts = new int[Outcome.Status.values().length];
        long[] durations = new long[size];
        int started = 0;
        for (int i = 0; i < size; i++) {
            Outcome<R> outcome = outcomes.get(i);
            list.add(outcome);
            counts[outcome.status().ordinal()]++;
            if (outcome.timing().isPresent()) {
                durations[started++] = outcome.timing().get().duration().toNanos();
            }
        }
        Arrays.sort(durations, 0, started);
        RunSummary summary = new RunSummary(size,
                counts[Outcome.Status.SUCCEEDED.ordinal()],
                counts[Outcome.Status.FAILED.ordinal()],
                counts[Outcome.Status.REJECTED.ordinal()],
                counts[Outcome.Status.TIMED_OUT.ordinal()],
                counts[Outcome.Status.NOT_STARTED.ordinal()],
                peak,
                percentile(durations, started, 50),
                percentile(durations, started, 95),
                started == 0 ? Duration.ZERO : Duration.ofNanos(durations[started - 1]),
                Duration.ofNanos(now - startedNanos),
                Duration.ofNanos(deadline.nanos() - now),
                abandoned);
        return new BatchResult<>(list, summary);
    }

    /** Nearest-rank percentile of the first {@code n} sorted values. */
    static Duration percentile(long[] sorted, int n, int percent) {
        if (n == 0) {
            return Duration.ZERO;
        }
        int rank = (int) Math.ceil(percent / 100.0 * n);
        return Duration.ofNanos(sorted[Math.max(rank, 1) - 1]);
    }

    /** One started item. Its slot is held while {@link #holds} is above zero. */
    private static final class Worker {
        final int index;
        final long startNanos;
        final Deadline deadline;
        final long timeoutAt;
        final Cancellation cancellation = new Cancellation();
        final AtomicInteger holds = new AtomicInteger(1);
        final AtomicBoolean uniPending = new AtomicBoolean();
        volatile Thread thread;
        // guarded by lock: set when the item's own outcome lets its group go on
        boolean handOver;

        Worker(int index, long startNanos, Deadline deadline, long timeoutAt) {
            this.index = index;
            this.startNanos = startNanos;
            this.deadline = deadline;
            this.timeoutAt = timeoutAt;
        }
    }
}

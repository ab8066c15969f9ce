package dev.fanout.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import dev.fanout.engine.Cancellation.Cause;
import dev.fanout.engine.Outcome.Failed;
import dev.fanout.engine.Outcome.NotStarted;
import dev.fanout.engine.Outcome.Rejected;
import dev.fanout.engine.Outcome.Succeeded;
import dev.fanout.engine.Outcome.TimedOut;
import dev.fanout.engine.Outcome.Timing;

/**
 * The state of one run.
 * <p>
 * <b>Who does what.</b> The calling thread starts the first items, then only waits: for the last outcome,
 * for an item's own timeout (which it fires), or for the cut-off (which it carries out). An item's thread,
 * as it ends, sets its outcome, frees its slot and starts the next ready item itself, so that a run in
 * steady state never wakes the caller: a slot is handed from item to item like a semaphore's permit.
 * <p>
 * <b>Lock discipline.</b> One lock, {@link #lock}, guards every mutable field of a run except the outcomes;
 * those fields are read and written only while it is held. Every method that must be called with the lock
 * held ends in {@code Locked}, and no other method touches those fields. A {@code Locked} method never calls a
 * handler, never blocks except in {@link Condition#awaitNanos} on {@link #changed}, and never starts a thread
 * (a new item's thread is created under the lock and started after it is released, so a short item cannot
 * queue on the lock of the thread that starts it). Outcomes are set by compare-and-set in
 * {@link #decideLocked}, so the first outcome of an item is its only one; the array is read without the lock
 * only to skip work for an item that already has one.
 * <p>
 * Every wait is bounded: the caller never waits more than the pool's bound (the ticker's
 * {@link Ticker#maxWait()}) before it re-reads the ticker, and never past the deadline.
 */
final class BatchRun<I, R> {

    /** Item threads are built by one factory: unnumbered, so that starting one costs no name. */
    private static final ThreadFactory ITEM_THREADS = Thread.ofVirtual().name("fanout-item").factory();
    private static final long NO_TIMEOUT = Long.MAX_VALUE;

    private final List<I> items;
    private final Batch<I> batch;
    private final ItemHandler<I, R> handler;
    private final int maxConcurrency;
    private final long itemTimeoutNanos;
    private final long cancelGraceNanos;
    private final long maxWaitNanos;
    private final Ticker ticker;
    private final Deadline deadline;
    private final Deadline cutoff;
    private final int size;

    private final AtomicReferenceArray<Outcome<R>> outcomes;
    private final OutcomeListener<R> listener;
    /** Items whose outcome is set and not yet told to the listener; null without a listener. */
    private final ConcurrentLinkedQueue<Integer> toAnnounce;
    private final AtomicInteger announced = new AtomicInteger();
    private final Thread caller = Thread.currentThread();
    /** The next item of the same group, or -1; null for a batch without groups. */
    private final int[] nextInGroup;
    /** The items that start without waiting for another, in input order; null when that is every item. */
    private final int[] heads;
    private final int headCount;
    private final long startedNanos;
    private final Instant startedAt;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // guarded by lock
    private int nextHead;
    private PriorityQueue<Integer> handedOver;
    private final ArrayDeque<Worker> timeouts = new ArrayDeque<>();
    private final Worker[] holding;
    /** Parked items that asked for a place back ({@link Slot#reacquire}), first come first served. */
    private final ArrayDeque<Worker> resuming = new ArrayDeque<>();
    private int active;
    /** Items that gave their place back while they wait outside the engine ({@link Slot#release}). */
    private int parked;
    private int peak;
    private int decided;
    private boolean cutOff;

    BatchRun(Batch<I> batch, ItemHandler<I, R> handler, Limits limits, Ticker ticker, long maxWaitNanos, Deadline deadline,
            OutcomeListener<R> listener) {
        this.batch = batch;
        this.listener = listener;
        this.toAnnounce = listener == null ? null : new ConcurrentLinkedQueue<>();
        this.items = batch.items();
        this.handler = handler;
        this.maxConcurrency = limits.maxConcurrency();
        this.itemTimeoutNanos = limits.itemTimeout().map(Deadline::saturatedNanos).orElse(0L);
        this.cancelGraceNanos = Deadline.saturatedNanos(limits.cancelGrace());
        this.maxWaitNanos = maxWaitNanos;
        this.ticker = ticker;
        this.deadline = deadline;
        this.cutoff = deadline.minus(limits.cutoffMargin());
        this.size = batch.size();
        this.outcomes = new AtomicReferenceArray<>(size);
        this.holding = workers(size);
        int[] groupHeads = null;
        int[] next = null;
        int count = size;
        if (batch.hasGroups()) {
            Map<String, Integer> lastOfGroup = new HashMap<>();
            groupHeads = new int[size];
            next = new int[size];
            Arrays.fill(next, -1);
            count = 0;
            for (int i = 0; i < size; i++) {
                String group = batch.groupOf(i);
                Integer previous = group == null ? null : lastOfGroup.put(group, i);
                if (previous == null) {
                    groupHeads[count++] = i;
                } else {
                    next[previous] = i;
                }
            }
        }
        this.heads = groupHeads;
        this.nextInGroup = next;
        this.headCount = count;
        this.startedNanos = ticker.nanoTime();
        this.startedAt = Instant.now();
    }

    BatchResult<R> execute() {
        startFirst();
        boolean interrupted;
        int abandoned;
        int peakSeen;
        lock.lock();
        try {
            interrupted = awaitOutcomesLocked();
            abandoned = cancelledButRunningLocked();
            peakSeen = peak;
        } finally {
            lock.unlock();
        }
        if (toAnnounce != null) {
            announce();
            awaitAnnounced();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return result(abandoned, peakSeen);
    }

    /** Fills the slots; from then on, each ending item starts the next. */
    private void startFirst() {
        Worker[] first = workers(Math.min(maxConcurrency, size));
        int count = 0;
        long now = ticker.nanoTime();
        lock.lock();
        try {
            if (now - cutoff.nanos() < 0) {
                Worker worker;
                while (count < first.length && (worker = startNextLocked(now)) != null) {
                    first[count++] = worker;
                }
            }
        } finally {
            lock.unlock();
        }
        for (int i = 0; i < count; i++) {
            first[i].thread.start();
        }
    }

    /** The caller's loop after the start; returns true if the calling thread was interrupted. */
    private boolean awaitOutcomesLocked() {
        while (decided < size) {
            long now = ticker.nanoTime();
            if (now - cutoff.nanos() >= 0) {
                cutOffLocked(now);
                return awaitCancelledLocked(now);
            }
            expireItemTimeoutsLocked(now);
            if (decided == size) {
                break;
            }
            long wakeAt = cutoff.nanos();
            Worker next = nextTimeoutLocked();
            if (next != null && next.timeoutAt - wakeAt < 0) {
                wakeAt = next.timeoutAt;
            }
            try {
                changed.awaitNanos(Math.min(wakeAt - now, maxWaitNanos));
            } catch (InterruptedException e) {
                // the invocation is being shut down: cut off now, like a cancelled parent context
                now = ticker.nanoTime();
                cutOffLocked(now);
                awaitCancelledLocked(now);
                return true;
            }
        }
        return false;
    }

    /**
     * Takes a slot for the next ready item and creates (but does not start) its thread; null if no slot is
     * free or nothing is ready. {@code now} is the item's start time.
     */
    private Worker startNextLocked(long now) {
        if (active >= maxConcurrency) {
            return null;
        }
        int index = pollReadyLocked();
        if (index < 0) {
            return null;
        }
        Deadline itemDeadline = cutoff;
        long timeoutAt = NO_TIMEOUT;
        if (itemTimeoutNanos > 0 && now + itemTimeoutNanos - cutoff.nanos() < 0) {
            timeoutAt = now + itemTimeoutNanos;
            itemDeadline = Deadline.atNanos(ticker, timeoutAt);
        }
        Worker worker = new Worker(index, now, itemDeadline, timeoutAt);
        worker.thread = ITEM_THREADS.newThread(worker);
        holding[index] = worker;
        active++;
        if (active > peak) {
            peak = active;
        }
        if (timeoutAt != NO_TIMEOUT) {
            // items start in time order, so their timeouts queue in order too; a first one wakes the caller
            if (timeouts.isEmpty()) {
                changed.signal();
            }
            timeouts.add(worker);
        }
        return worker;
    }

    /** The lowest-numbered ready item, or -1: group heads in input order, and items their group handed over. */
    private int pollReadyLocked() {
        int head = nextHead < headCount ? (heads == null ? nextHead : heads[nextHead]) : -1;
        Integer handed = handedOver == null ? null : handedOver.peek();
        if (handed != null && (head < 0 || handed < head)) {
            return handedOver.poll();
        }
        if (head >= 0) {
            nextHead++;
        }
        return head;
    }

    /**
     * An item's thread has left its handler: sets the outcome unless it has one, frees the slot, hands the
     * group on and takes the slot for the next ready item, whose thread the caller starts.
     */
    private Worker endLocked(Worker worker, Outcome<R> outcome, long now) {
        boolean wasParked = worker.parked;
        if (wasParked) {
            worker.parked = false;
            parked--;
            resuming.remove(worker);
        } else {
            active--;
        }
        holding[worker.index] = null;
        if (outcome != null && decideLocked(worker.index, outcome) && nextInGroup != null) {
            if (batch.haltsGroup(outcome)) {
                haltGroupAfterLocked(worker.index);
            } else {
                // the group's next item is ready only now that this one's slot is free: two items of a group
                // never hold slots at once, and peakConcurrency counts only items that run
                int next = nextInGroup[worker.index];
                if (next >= 0) {
                    if (handedOver == null) {
                        handedOver = new PriorityQueue<>();
                    }
                    handedOver.add(next);
                }
            }
        }
        Worker started = wasParked ? null : freedLocked(now);
        if (decided == size || (cutOff && active + parked == 0)) {
            changed.signal();
        }
        return started;
    }

    /**
     * A place is free: a parked item that asked for one back gets it first, else the next ready item takes it
     * (returned: its thread is started by the caller, after the lock).
     */
    private Worker freedLocked(long now) {
        Worker resumer = resuming.poll();
        if (resumer != null) {
            grantLocked(resumer);
            LockSupport.unpark(resumer.thread);
            return null;
        }
        if (!cutOff) {
            if (now - cutoff.nanos() >= 0) {
                changed.signal(); // the caller cuts off; nothing more starts
            } else {
                return startNextLocked(now);
            }
        }
        return null;
    }

    private void grantLocked(Worker worker) {
        worker.parked = false;
        parked--;
        active++;
        if (active > peak) {
            peak = active;
        }
    }

    /** Sets the outcome of {@code index} if it has none yet; true only for that first outcome. */
    private boolean decideLocked(int index, Outcome<R> outcome) {
        if (!outcomes.compareAndSet(index, null, outcome)) {
            return false;
        }
        decided++;
        if (toAnnounce != null) {
            toAnnounce.add(index);
        }
        return true;
    }

    /**
     * Tells the listener of the outcomes set so far; called only without the lock, so a listener never
     * holds up the run. Each index is taken from the queue once, so it is told once, by whichever thread
     * takes it.
     */
    private void announce() {
        if (toAnnounce == null) {
            return;
        }
        Integer index;
        while ((index = toAnnounce.poll()) != null) {
            try {
                listener.decided(index, outcomes.get(index));
            } catch (RuntimeException | Error ignored) {
                // the listener is the caller's; its failure must not cost this thread its hand-over of the slot
            } finally {
                if (announced.incrementAndGet() == size) {
                    LockSupport.unpark(caller);
                }
            }
        }
    }

    /**
     * Waits, never past the deadline, until the listener has been told of every outcome: a call that an item's
     * thread has begun ends before the run returns, so the caller sees every call's effects.
     */
    private void awaitAnnounced() {
        long left;
        while (announced.get() < size && (left = deadline.remainingNanos()) > 0) {
            LockSupport.parkNanos(this, Math.min(left, maxWaitNanos));
            announce();
        }
    }

    /** The later items of a group stopped by one of its items never start. */
    private void haltGroupAfterLocked(int index) {
        for (int next = nextInGroup[index]; next >= 0; next = nextInGroup[next]) {
            decideLocked(next, NotStarted.groupHaltedBy(index));
        }
    }

    private void expireItemTimeoutsLocked(long now) {
        Worker worker;
        while ((worker = nextTimeoutLocked()) != null && worker.timeoutAt - now <= 0) {
            timeouts.poll();
            Outcome<R> outcome = worker.parked && worker.unstarted
                    ? NotStarted.notAdmitted() : new TimedOut<>(Cause.ITEM_TIMEOUT, timing(worker, now));
            if (decideLocked(worker.index, outcome)
                    && nextInGroup != null) {
                haltGroupAfterLocked(worker.index);
            }
            cancelLocked(worker, Cause.ITEM_TIMEOUT);
        }
    }

    /** The running item whose timeout comes first, dropping the ones that have an outcome already. */
    private Worker nextTimeoutLocked() {
        Worker worker;
        while ((worker = timeouts.peek()) != null && outcomes.get(worker.index) != null) {
            timeouts.poll();
        }
        return worker;
    }

    /** Nothing starts any more: running items time out and are cancelled, the rest are not started. */
    private void cutOffLocked(long now) {
        cutOff = true;
        for (int i = 0; i < size; i++) {
            if (outcomes.get(i) == null) {
                Worker worker = holding[i];
                decideLocked(i, worker == null ? NotStarted.cutOff()
                        : worker.parked && worker.unstarted ? NotStarted.notAdmitted()
                        : new TimedOut<>(Cause.CUT_OFF, timing(worker, now)));
            }
        }
        for (Worker worker : holding) {
            if (worker != null) {
                cancelLocked(worker, Cause.CUT_OFF);
            }
        }
    }

    private void cancelLocked(Worker worker, Cause cause) {
        // flag first, so that a handler woken by the interrupt sees why; a thread not started yet sees the flag
        // and never calls the handler
        if (!worker.cancellation.markCancelled(cause)) {
            return;
        }
        worker.thread.interrupt();
        if (worker.cancellation.hasCallbacks()) {
            // handler callbacks may be slow: never let them hold up the caller and its deadline
            Thread.ofVirtual().name("fanout-cancel").start(worker.cancellation::runCallbacks);
        }
    }

    /** After a cut-off, waits up to the grace (never past the deadline) for cancelled items to stop. */
    private boolean awaitCancelledLocked(long cutAt) {
        long until = cutAt + cancelGraceNanos;
        if (until - deadline.nanos() > 0) {
            until = deadline.nanos();
        }
        while (active + parked > 0) {
            long wait = until - ticker.nanoTime();
            if (wait <= 0) {
                break;
            }
            try {
                changed.awaitNanos(Math.min(wait, maxWaitNanos));
            } catch (InterruptedException e) {
                return true;
            }
        }
        return false;
    }

    /** Items that were cancelled but whose handler has not returned (an item just finishing is not one). */
    private int cancelledButRunningLocked() {
        int count = 0;
        for (Worker worker : holding) {
            if (worker != null && worker.cancellation.isCancelled()) {
                count++;
            }
        }
        return count;
    }

    static <R> Outcome<R> classify(Throwable failure, Timing timing) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return switch (cause) {
            case RejectedItemException rejected -> new Rejected<>(rejected.getMessage(), timing);
            case NotAdmittedException notAdmitted -> NotStarted.notAdmitted();
            case NonRetryableException permanent -> new Failed<>(permanent, false, timing);
            case RetryAfter asks -> new Failed<>(cause, true, timing, retryAfterOf(asks));
            default -> new Failed<>(cause, true, timing);
        };
    }

    /** A failure's own wait; one that cannot say (its accessor throws or answers null) asks for none. */
    private static Optional<Duration> retryAfterOf(RetryAfter failure) {
        try {
            Optional<Duration> asked = failure.retryAfter();
            return asked == null ? Optional.empty() : asked;
        } catch (RuntimeException broken) {
            return Optional.empty();
        }
    }

    private Timing timing(Worker worker, long now) {
        return new Timing(startedAt.plusNanos(worker.startNanos - startedNanos), Duration.ofNanos(now - worker.startNanos));
    }

    private BatchResult<R> result(int abandoned, int peak) {
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

    @SuppressWarnings("unchecked")
    private Worker[] workers(int length) {
        return (Worker[]) new BatchRun.Worker[length]; // an inner class of a generic class: its array is made raw
    }

    /**
     * One started item, and the body of its thread. It holds a slot from its start until its thread ends, except
     * while it is parked ({@link Slot}).
     */
    private final class Worker implements Runnable, Slot {
        final int index;
        final long startNanos;
        final Deadline deadline;
        final long timeoutAt;
        final Cancellation cancellation = new Cancellation();
        Thread thread; // set under the lock before the thread starts or can be cancelled
        // guarded by lock
        boolean parked;
        boolean unstarted;

        Worker(int index, long startNanos, Deadline deadline, long timeoutAt) {
            this.index = index;
            this.startNanos = startNanos;
            this.deadline = deadline;
            this.timeoutAt = timeoutAt;
        }

        @Override
        public void run() {
            R value = null;
            Throwable failure = null;
            boolean called = !cancellation.isCancelled(); // cut off between its slot and its start: never called
            if (called) {
                try {
                    value = handler.handle(new ItemContext<>(items.get(index), index, deadline, cancellation, this));
                } catch (Throwable t) {
                    failure = t;
                }
            }
            long now = ticker.nanoTime();
            Outcome<R> outcome = null;
            if (called) { // a late result is offered too, and refused by decideLocked: it never replaces a time-out
                Timing timing = timing(this, now);
                outcome = failure == null ? new Succeeded<>(value, timing) : classify(failure, timing);
            }
            Worker next;
            lock.lock();
            try {
                next = endLocked(this, outcome, now);
            } finally {
                lock.unlock();
            }
            if (next != null) {
                next.thread.start();
            }
            announce();
        }

        @Override
        public void release(boolean unstarted) {
            checkOwnThread();
            Worker next;
            lock.lock();
            try {
                if (parked) {
                    throw new IllegalStateException("the item is parked already");
                }
                parked = true;
                this.unstarted = unstarted;
                active--;
                BatchRun.this.parked++;
                next = freedLocked(ticker.nanoTime());
            } finally {
                lock.unlock();
            }
            if (next != null) {
                next.thread.start();
            }
        }

        @Override
        public void reacquire() throws InterruptedException {
            checkOwnThread();
            lock.lock();
            try {
                if (!parked) {
                    throw new IllegalStateException("the item is not parked");
                }
                if (cancellation.isCancelled()) {
                    throw new InterruptedException("item cancelled while parked: " + cancellation.cause().orElseThrow());
                }
                if (resuming.isEmpty() && active < maxConcurrency) {
                    grantLocked(this);
                    return;
                }
                resuming.add(this);
            } finally {
                lock.unlock();
            }
            // an ending item hands its place over and unparks this thread; the cut-off interrupts it
            while (true) {
                boolean cancelled = Thread.interrupted() || cancellation.isCancelled();
                lock.lock();
                try {
                    if (!parked) {
                        if (cancelled) {
                            Thread.currentThread().interrupt(); // it holds a place now; the handler sees why
                        }
                        return;
                    }
                    if (cancelled) {
                        resuming.remove(this);
                        throw new InterruptedException("item cancelled while parked: "
                                + cancellation.cause().map(Enum::name).orElse("interrupted"));
                    }
                } finally {
                    lock.unlock();
                }
                LockSupport.parkNanos(this, maxWaitNanos);
            }
        }

        private void checkOwnThread() {
            if (Thread.currentThread() != thread) {
                throw new IllegalStateException("an item's slot is given back and taken on its own thread only");
            }
        }
    }
}

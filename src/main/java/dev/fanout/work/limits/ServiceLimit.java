package dev.fanout.work.limits;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import com.netflix.concurrency.limits.Limit;
import com.netflix.concurrency.limits.limit.AIMDLimit;
import com.netflix.concurrency.limits.limit.Gradient2Limit;
import com.netflix.concurrency.limits.limit.VegasLimit;

import dev.fanout.engine.Deadline;
import dev.fanout.engine.NotAdmittedException;
import dev.fanout.engine.Slot;

/**
 * One downstream service's concurrency limit: the library's {@link Limit} says how many requests may be in
 * flight; this class counts them and makes the rest wait.
 * <p>
 * Why it is not the library's limiter: {@code SimpleLimiter} never waits, and {@code BlockingLimiter} waits with
 * one timeout fixed for every caller, cannot be interrupted by the cut-off, wakes every waiter at each release,
 * and times a request from the permit, whatever the caller did between. Here a caller waits no longer than its
 * own deadline; a permit freed (or a limit grown) is handed to the caller first in line; the caller gives its
 * engine place back while it waits ({@link Slot}), so a slow service never keeps another's items from running;
 * and a request is timed from the moment the caller holds both its permit and its engine place.
 */
public final class ServiceLimit {

    /** The longest a waiter sleeps before it reads its deadline again; any hand-over or cut-off wakes it sooner. */
    private static final long MAX_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    static final int WINDOW_SAMPLES = 10;

    private final String service;
    private final Limit limit;
    private final int min;
    private final int max;

    private final ReentrantLock lock = new ReentrantLock();
    // guarded by lock
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private int inflight;
    private int lowest;
    private int highest;
    private int reportedLimit;
    private long waited;
    private boolean used;

    ServiceLimit(String service, LimitSettings settings) {
        this(service, newLimit(settings), settings.min(), settings.max());
    }

    /** A new limit of the settings' algorithm; the bounds are checked already ({@link LimitSettings}). */
    static Limit newLimit(LimitSettings settings) {
        int initial = settings.initial();
        int min = settings.min();
        int max = settings.max();
        return switch (settings.algorithm()) {
            // the library's AIMD keeps nothing but its limit: a slow start of Fanout's, then AIMD restarted at it
            case AIMD -> RoundTripWindow.restartable(
                    start -> AIMDLimit.newBuilder().initialLimit(start).minLimit(min).maxLimit(max).build(),
                    initial, min, max, WINDOW_SAMPLES);
            // Vegas's own decrease is log10 of the limit as an integer: 0 below 10, where the limit would stick
            case VEGAS -> RoundTripWindow.over(VegasLimit.newBuilder().initialLimit(initial).maxConcurrency(max)
                    .decreaseFunction(limit -> limit - Math.max(1, (int) Math.log10(limit))).build(), WINDOW_SAMPLES);
            // Gradient2 smooths its own samples (and a window would hide its short-term latency)
            case GRADIENT2 -> Gradient2Limit.newBuilder().initialLimit(initial).minLimit(min).maxConcurrency(max)
                    .build();
        };
    }

    /** A service's limit on {@code limit}, within {@code [min, max]}. */
    ServiceLimit(String service, Limit limit, int min, int max) {
        this.service = service;
        this.min = min;
        this.max = max;
        this.limit = limit;
        int now = limit();
        this.lowest = now;
        this.highest = now;
        this.reportedLimit = now;
    }

    public String service() {
        return service;
    }

    /** The limit in force: the algorithm's, within {@code [min, max]}. */
    public int limit() {
        int raw = limit.getLimit();
        return raw < min ? min : Math.min(raw, max);
    }

    /** Requests in flight now. */
    public int inflight() {
        lock.lock();
        try {
            return inflight;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A permit for one request, waiting (engine place given back) if the service's requests in flight are at its
     * limit, never past {@code deadline}.
     *
     * @param slot      the item's place in the engine's bound, given back while it waits
     * @param deadline  the item's deadline
     * @param unstarted the item has done nothing yet: if no permit comes, it is not started
     * @throws NotAdmittedException if no permit came before the deadline and {@code unstarted}
     * @throws NoPermitException    if no permit came before the deadline otherwise
     * @throws InterruptedException if the item was cancelled while it waited
     */
    public Permit acquire(Slot slot, Deadline deadline, boolean unstarted)
            throws NotAdmittedException, NoPermitException, InterruptedException {
        Waiter waiter;
        lock.lock();
        try {
            used = true;
            if (waiters.isEmpty() && inflight < limit()) {
                inflight++;
                return new Held(inflight, limit());
            }
            waiter = new Waiter(Thread.currentThread());
            waiters.add(waiter);
            waited++;
        } finally {
            lock.unlock();
        }
        try {
            slot.release(unstarted);
        } catch (RuntimeException misuse) { // not on the item's own thread: leave the line, keep no permit
            lock.lock();
            try {
                if (!waiters.remove(waiter)) {
                    inflight--; // handed over meanwhile
                    drainLocked();
                }
            } finally {
                lock.unlock();
            }
            throw misuse;
        }
        if (!awaitGrant(waiter, deadline)) {
            if (unstarted) {
                throw new NotAdmittedException("no permit of " + service + " came before the item's deadline");
            }
            slot.reacquire();
            throw new NoPermitException("no permit of " + service + " came before the item's deadline");
        }
        try {
            slot.reacquire();
        } catch (InterruptedException | RuntimeException e) {
            end(); // granted, never used
            throw e;
        }
        lock.lock();
        try {
            return new Held(inflight, limit());
        } finally {
            lock.unlock();
        }
    }

    /** True once granted; false at the deadline (no longer waiting). Throws if interrupted (no longer waiting). */
    private boolean awaitGrant(Waiter waiter, Deadline deadline) throws InterruptedException {
        while (true) {
            boolean interrupted = Thread.interrupted();
            long left = deadline.remainingNanos();
            lock.lock();
            try {
                if (waiter.granted) {
                    if (interrupted) {
                        inflight--; // handed over but never used: give it to the next in line
                        drainLocked();
                        throw new InterruptedException("cancelled while waiting for a permit of " + service);
                    }
                    return true;
                }
                if (interrupted || left <= 0) {
                    waiters.remove(waiter);
                    if (interrupted) {
                        throw new InterruptedException("cancelled while waiting for a permit of " + service);
                    }
                    return false;
                }
            } finally {
                lock.unlock();
            }
            LockSupport.parkNanos(this, Math.min(left, MAX_PARK_NANOS));
        }
    }

    /** A request ended without a sample: frees its permit. */
    private void end() {
        lock.lock();
        try {
            inflight--;
            drainLocked();
        } finally {
            lock.unlock();
        }
    }

    /** Hands permits to the waiters first in line while the limit leaves room. */
    private void drainLocked() {
        int now = limit();
        if (now < lowest) {
            lowest = now;
        }
        if (now > highest) {
            highest = now;
        }
        Waiter next;
        while (inflight < now && (next = waiters.poll()) != null) {
            inflight++;
            next.granted = true;
            LockSupport.unpark(next.thread);
        }
    }

    /**
     * What this service's limit did since the last report, and a new report period begun; null if it was not
     * used in the period.
     */
    LimitReport.Service report() {
        lock.lock();
        try {
            if (!used) {
                return null;
            }
            int now = limit();
            var line = new LimitReport.Service(service, reportedLimit, now, Math.min(lowest, now),
                    Math.max(highest, now), waited);
            used = false;
            waited = 0;
            reportedLimit = now;
            lowest = now;
            highest = now;
            return line;
        } finally {
            lock.unlock();
        }
    }

    private static final class Waiter {
        final Thread thread;
        boolean granted; // guarded by lock

        Waiter(Thread thread) {
            this.thread = thread;
        }
    }

    private final class Held implements Permit {
        private final long startNanos = System.nanoTime();
        private final int inflightAtStart;
        private final int limitAtStart;
        private final AtomicBoolean ended = new AtomicBoolean();

        Held(int inflightAtStart, int limitAtStart) {
            this.inflightAtStart = inflightAtStart;
            this.limitAtStart = limitAtStart;
        }

        @Override
        public void success() {
            sample(false, false);
        }

        @Override
        public void dropped() {
            sample(true, false);
        }

        @Override
        public void timedOut() {
            sample(true, true);
        }

        @Override
        public void ignore() {
            if (ended.compareAndSet(false, true)) {
                end();
            }
        }

        @Override
        public void close() {
            ignore();
        }

        private void sample(boolean didDrop, boolean timedOut) {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            long rtt = Math.max(1, System.nanoTime() - startNanos);
            try {
                if (limit instanceof RoundTripWindow window) {
                    window.onAnswer(startNanos, rtt, inflightAtStart, limitAtStart, didDrop, timedOut);
                } else {
                    limit.onSample(startNanos, rtt, inflightAtStart, didDrop);
                }
            } finally {
                end();
            }
        }

        @Override
        public String toString() {
            return "Permit[" + service + "]";
        }
    }
}

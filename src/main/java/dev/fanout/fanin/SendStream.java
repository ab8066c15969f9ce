package dev.fanout.fanin;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A streaming send. One dispatcher thread packs offered results into requests (10 entries, the batch
 * byte limit), waiting up to {@link SqsResultsSink#LINGER} for a request to fill while results still come; up to
 * {@code sendConcurrency} requests are in flight at once, each on a virtual thread of its own, with the
 * same retries and rules as {@link SqsResultsSink#deliver}. A FIFO result waits for the previous result of its group:
 * so a request never holds two results of one group, and a group whose result is not confirmed sends
 * none of its later ones.
 */
final class SendStream implements ResultStream {

    /** The longest a stream's threads wait before they look at the deadline again. */
    private static final long MAX_WAIT_NANOS = Duration.ofMillis(100).toNanos();

    private final SqsDelivery send;
    private final SqsResultsSink.Settings settings;
    private final long lingerNanos;
    private final long maxWaitNanos;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Thread dispatcher;
    // guarded by lock
    private final boolean[] offered;
    private final long[] offeredAt;
    private final long[] confirmedAt;
    private final ArrayDeque<Integer> ready = new ArrayDeque<>();
    private long readyBytes;
    private long oldestReadyAt;
    /** The result waiting for each unresolved one of its group: previous index to waiting index. */
    private final Map<Integer, Integer> waitingFor = new HashMap<>();
    private final boolean[] resolved;
    private final List<Thread> senders = new ArrayList<>();
    private int unresolved;
    private int inFlight;
    private boolean closed;

    SendStream(SqsDelivery send, SqsResultsSink.Settings settings) {
        this(send, settings, SqsResultsSink.LINGER, Duration.ofNanos(MAX_WAIT_NANOS));
    }

    /**
     * With the linger and the longest wait between looks at the deadline given: tests lift them, so that only
     * a full request, a close or a signal can move the stream, and a missing wake-up shows as a wait to the
     * deadline instead of hiding behind the 100 ms re-reading.
     */
    SendStream(SqsDelivery send, SqsResultsSink.Settings settings, Duration linger, Duration maxWait) {
        this.send = send;
        this.settings = settings;
        this.lingerNanos = linger.toNanos();
        this.maxWaitNanos = maxWait.toNanos();
        int n = send.messages.length();
        this.offered = new boolean[n];
        this.offeredAt = new long[n];
        this.confirmedAt = new long[n];
        this.resolved = new boolean[n];
        this.dispatcher = Thread.ofVirtual().name("fanout-send-dispatch").start(this::dispatch);
    }

    /** The dispatcher's thread: tests wait for it to be waiting before a step whose wake-up they prove. */
    Thread dispatcher() {
        return dispatcher;
    }

    @Override
    public void offer(int index, ResultMessage message, int after) {
        Objects.requireNonNull(message, "message");
        lock.lock();
        try {
            if (closed || offered[index]) {
                return;
            }
            offered[index] = true;
            offeredAt[index] = System.nanoTime();
            send.set(index, message);
            unresolved++;
            if (!send.withinSizeLimit(index)) {
                resolveLocked(index);
            } else if (after >= 0 && !resolved[after]) {
                waitingFor.put(after, index);
            } else if (after >= 0 && send.failures.get(after) != null) {
                holdBackLocked(index);
            } else {
                readyLocked(index);
            }
        } finally {
            lock.unlock();
        }
    }

    private void readyLocked(int index) {
        if (ready.isEmpty()) {
            oldestReadyAt = System.nanoTime();
        }
        ready.add(index);
        readyBytes += send.messages.get(index).sizeInBytes();
        changed.signalAll();
    }

    /** Index is confirmed or has failed for good: release or hold back the result waiting for it. */
    private void resolveLocked(int index) {
        resolved[index] = true;
        unresolved--;
        boolean confirmed = send.failures.get(index) == null;
        if (confirmed) {
            confirmedAt[index] = System.nanoTime();
        }
        Integer next = waitingFor.remove(index);
        if (next != null) {
            if (confirmed) {
                readyLocked(next);
            } else {
                holdBackLocked(next);
            }
        }
        changed.signalAll();
    }

    /**
     * No offer comes after close. A result still waiting for a predecessor that was never offered (its
     * record came back, so it has no result) can never be released: it is held back now, not left to
     * hold the invocation until the deadline.
     */
    private void holdBackOrphansLocked() {
        for (int predecessor : new ArrayList<>(waitingFor.keySet())) {
            if (!offered[predecessor]) {
                holdBackLocked(waitingFor.remove(predecessor));
            }
        }
    }

    private void holdBackLocked(int index) {
        send.failures.set(index, "held back: an earlier result of its group was not confirmed");
        resolveLocked(index);
    }

    private void dispatch() {
        lock.lock();
        try {
            while (!(closed && unresolved == 0)) {
                long left = send.deadline.remainingNanos();
                if (left <= 0) {
                    return;
                }
                long wait = Math.min(left, maxWaitNanos);
                if (!ready.isEmpty() && inFlight < settings.sendConcurrency()) {
                    long lingered = System.nanoTime() - oldestReadyAt;
                    boolean full = ready.size() >= SqsResultsSink.MAX_ENTRIES || readyBytes >= settings.maxBatchBytes();
                    if (full || closed || lingered >= lingerNanos) {
                        startRequestLocked();
                        continue;
                    }
                    wait = Math.min(wait, lingerNanos - lingered);
                }
                changed.awaitNanos(wait);
            }
        } catch (InterruptedException e) {
            // closed at the deadline: what is not sent stays undelivered
        } finally {
            lock.unlock();
        }
    }

    private void startRequestLocked() {
        List<Integer> batch = new ArrayList<>(SqsResultsSink.MAX_ENTRIES);
        long bytes = 0;
        while (!ready.isEmpty() && batch.size() < SqsResultsSink.MAX_ENTRIES) {
            int size = send.messages.get(ready.peek()).sizeInBytes();
            if (!batch.isEmpty() && bytes + size > settings.maxBatchBytes()) {
                break;
            }
            batch.add(ready.poll());
            bytes += size;
        }
        readyBytes -= bytes;
        oldestReadyAt = System.nanoTime();
        inFlight++;
        senders.add(Thread.ofVirtual().name("fanout-send").start(() -> sendAndResolve(batch)));
    }

    private void sendAndResolve(List<Integer> batch) {
        try {
            send.sendWithRetries(batch);
        } finally {
            lock.lock();
            try {
                inFlight--;
                for (int index : batch) {
                    resolveLocked(index);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    @Override
    public Delivery close() {
        List<Thread> running;
        lock.lock();
        try {
            closed = true;
            holdBackOrphansLocked();
            changed.signalAll();
            long left;
            while (unresolved > 0 && (left = send.deadline.remainingNanos()) > 0) {
                changed.awaitNanos(Math.min(left, maxWaitNanos));
            }
            running = unresolved > 0 ? new ArrayList<>(senders) : List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = new ArrayList<>(senders);
        } finally {
            lock.unlock();
        }
        dispatcher.interrupt();
        running.forEach(Thread::interrupt); // past the deadline: stops sleepers between retries
        return send.delivery();
    }

    @Override
    public Duration confirmationLag(int percent) {
        lock.lock();
        try {
            long[] lags = new long[offered.length];
            int n = 0;
            for (int i = 0; i < offered.length; i++) {
                if (offered[i] && confirmedAt[i] != 0) {
                    lags[n++] = confirmedAt[i] - offeredAt[i];
                }
            }
            Arrays.sort(lags, 0, n);
            return n == 0 ? Duration.ZERO : Duration.ofNanos(lags[Math.max((int) Math.ceil(percent / 100.0 * n), 1) - 1]);
        } finally {
            lock.unlock();
        }
    }
}

package dev.fanout.work.limits;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.IntFunction;

import com.netflix.concurrency.limits.Limit;

/**
 * A slow start, then one sample per round trip instead of one per answer, and a limit that falls to its minimum
 * when a whole round trip goes unanswered: what TCP does, and what the library's limits lack.
 * <p>
 * <b>Round trips.</b> After the slow start, the answers of a window (at least {@code minSamples}, and until one ends a
 * round trip, the least latency of the window, after the window began) become one sample, with their mean latency,
 * the most requests that were in flight, and a drop if any answer was one. So the library's AIMD adds 1 per round
 * trip and takes 10 % once per round trip with 429s, as TCP's congestion avoidance does; fed per answer it adds 1
 * for each answer and takes 10 % for each 429 of a burst (a burst of 20 takes 88 %), and swings between its minimum
 * and twice the capacity (docs/benchmarks.md has both). Why not the library's {@code WindowedLimit}: its windows are
 * 100 ms at least (it refuses less), five round trips of a 20 ms service, and an invocation holds few of them.
 * <p>
 * <b>Slow start</b>, for a limit that can be {@code restart}ed at a given value (the library's AIMD, whose only state
 * is its limit; its class is final and its limit cannot be set): the limit is this class's own, and each good answer
 * to a request sent while at least half the limit (the limit of that moment) was in flight adds 1 to it, as TCP's
 * slow start adds one segment per acknowledgement: with the limit in use, it doubles every round trip, and each
 * answer lets two requests go, so that the load grows smoothly. The limit of the moment the request was sent, not
 * of its answer, as TCP asks whether it was the window that held the sender back (RFC 7661): by the answer the limit
 * has grown, and the later answers of each round trip would not count, so that 1,000 answers from 20 stopped short
 * of 1,000 (828-925 in the benchmark). (Raising it at once to twice the requests in flight when the answered request was
 * sent reached the engine's bound a few answers sooner, but sent bursts: a service of capacity 50 got 6-7 % 429s in
 * the first invocation instead of 1-2 %; docs/benchmarks.md.) Slow start ends at the first drop (the algorithm
 * restarted at the slow start's limit takes the drop) or at the threshold (below). A limit that cannot be restarted
 * (Vegas, which learns latencies) is fed each answer until the first drop instead: its own rule decides.
 * <p>
 * <b>A round trip without an answer</b> (every request of the window timed out, {@link #onTimeout}): the service
 * answers nothing, and a 10 % decrease per round trip would take 22 timeouts to go from 20 to 2, each as long as the
 * request's timeout. As TCP after its retransmission timeout, the limit falls to its minimum at once and slow start
 * begins again, up to a threshold of half the limit it fell from; a timeout while slow start is at the minimum
 * changes nothing (the service is still probed, {@code min} requests at a time, and the threshold is kept for when
 * it answers again). Only for a limit that can be restarted; for the others a timeout is a drop.
 */
final class RoundTripWindow implements Limit {

    private final IntFunction<Limit> restart;
    private final int min;
    private final int max;
    private final int minSamples;
    private final List<Consumer<Integer>> listeners = new CopyOnWriteArrayList<>();

    /** The algorithm after the slow start (before it too, for a limit that cannot be restarted). */
    private volatile Limit delegate;
    /** The limit during a slow start of this class's own, or 0 when the delegate's is in force. */
    private volatile int slowStartLimit;

    // guarded by this
    private boolean slowStart = true;
    private int threshold = Integer.MAX_VALUE;
    private int notified;
    private long endsAfter = Long.MIN_VALUE;
    private boolean open;
    private int samples;
    private int answered;
    private long rttSum;
    private long minRtt;
    private int maxInflight;
    private boolean dropped;

    /**
     * @param restart    the algorithm, started at a given limit; it can be restarted at any time (it keeps no
     *                   other state than its limit)
     * @param initial    the limit at the start
     * @param min        the least limit
     * @param max        the most limit
     * @param minSamples the fewest answers in one round trip's sample
     */
    static RoundTripWindow restartable(IntFunction<Limit> restart, int initial, int min, int max, int minSamples) {
        return new RoundTripWindow(restart, restart.apply(initial), Math.clamp(initial, min, max), min, max,
                minSamples);
    }

    /** Over {@code delegate}, which learns more than its limit: fed each answer until the first drop. */
    static RoundTripWindow over(Limit delegate, int minSamples) {
        return new RoundTripWindow(null, delegate, 0, 1, Integer.MAX_VALUE, minSamples);
    }

    private RoundTripWindow(IntFunction<Limit> restart, Limit delegate, int slowStartLimit, int min, int max,
            int minSamples) {
        this.restart = restart;
        this.delegate = delegate;
        this.slowStartLimit = slowStartLimit;
        this.min = min;
        this.max = max;
        this.minSamples = minSamples;
        this.notified = getLimit();
    }

    @Override
    public int getLimit() {
        int own = slowStartLimit;
        return own > 0 ? own : delegate.getLimit();
    }

    @Override
    public void notifyOnChange(Consumer<Integer> consumer) {
        listeners.add(consumer);
    }

    @Override
    public void onSample(long startTime, long rtt, int inflight, boolean didDrop) {
        onAnswer(startTime, rtt, inflight, getLimit(), didDrop, false);
    }

    /** A request that got no answer in its time: a drop, and a round trip of them alone brings the limit down. */
    void onTimeout(long startTime, long rtt, int inflight) {
        onAnswer(startTime, rtt, inflight, getLimit(), true, true);
    }

    /**
     * The end of a request.
     *
     * @param inflight     requests in flight when it was sent, itself included
     * @param limitAtStart the limit in force when it was sent
     * @param timedOut     it got no answer in its time (a drop too)
     */
    void onAnswer(long startTime, long rtt, int inflight, int limitAtStart, boolean didDrop, boolean timedOut) {
        int now;
        synchronized (this) {
            if (slowStart) {
                slowStartSample(startTime, rtt, inflight, limitAtStart, didDrop, timedOut);
            } else {
                windowSample(startTime, rtt, inflight, didDrop, timedOut);
            }
            now = getLimit();
            if (now == notified) {
                return;
            }
            notified = now;
        }
        for (Consumer<Integer> listener : listeners) {
            listener.accept(now);
        }
    }

    /** True while the limit is in a slow start. */
    synchronized boolean inSlowStart() {
        return slowStart;
    }

    // guarded by this
    private void slowStartSample(long startTime, long rtt, int inflight, int limitAtStart, boolean didDrop,
            boolean timedOut) {
        if (restart == null) {
            slowStart = !didDrop;
            delegate.onSample(startTime, rtt, inflight, didDrop);
            return;
        }
        int limit = slowStartLimit;
        if (didDrop) {
            if (timedOut && limit <= min) {
                return; // still no answer: keep probing at the minimum, and the threshold for when it answers
            }
            avoidance(limit).onSample(startTime, rtt, inflight, true);
            return;
        }
        if (2L * inflight < limitAtStart) {
            return; // the limit was not what held the requests back
        }
        int grown = (int) Math.min(max, limit + 1L);
        if (grown >= threshold) {
            avoidance(Math.max(threshold, min));
        } else {
            slowStartLimit = grown;
        }
    }

    /** Ends the slow start: the algorithm restarted at {@code limit}. */
    // guarded by this
    private Limit avoidance(int limit) {
        Limit next = restart.apply(Math.clamp(limit, min, max));
        delegate = next;
        slowStartLimit = 0;
        slowStart = false;
        open = false;
        return next;
    }

    // guarded by this
    private void windowSample(long startTime, long rtt, int inflight, boolean didDrop, boolean timedOut) {
        long end = startTime + rtt;
        if (!open) {
            open = true;
            endsAfter = end;
            minRtt = Long.MAX_VALUE;
            samples = 0;
            answered = 0;
            rttSum = 0;
            maxInflight = 0;
            dropped = false;
        }
        samples++;
        if (!timedOut) {
            answered++;
        }
        rttSum += rtt;
        minRtt = Math.min(minRtt, rtt);
        maxInflight = Math.max(maxInflight, inflight);
        dropped |= didDrop;
        if (samples < minSamples || end - (endsAfter + minRtt) < 0) {
            return;
        }
        open = false;
        if (answered == 0 && restart != null) {
            // a round trip without an answer: to the minimum, and a slow start again up to half the limit
            threshold = Math.max(min, delegate.getLimit() / 2);
            slowStartLimit = min;
            slowStart = true;
            return;
        }
        delegate.onSample(startTime, Math.max(1, rttSum / samples), maxInflight, dropped);
    }
}

package dev.fanout.work.limits;

import java.util.function.Consumer;

import com.netflix.concurrency.limits.Limit;

/**
 * Feeds a limit each answer until the first drop (slow start: the library's AIMD doubles the limit every round trip,
 * so a service without a limit is found in a few round trips), then one sample per round trip instead of one per
 * answer: the answers of a window (at least
 * {@code minSamples}, and until one ends a round trip, the least latency of the window, after the window began)
 * become one sample, with their mean latency, the most requests that were in flight, and a drop if any answer was
 * one. So the library's AIMD adds 1 per round trip and takes 10 % once per round trip with 429s, as TCP's
 * congestion avoidance does; per answer it adds 1 for each answer (the limit doubles every round trip) and takes
 * 10 % for each 429 of a burst (a burst of 20 takes 88 %), and swings between its minimum and twice the capacity
 * (docs/benchmarks.md has both).
 * <p>
 * Why not the library's {@code WindowedLimit}: its windows are 100 ms at least (it refuses less), five round trips
 * of a 20 ms service, and an invocation of a few seconds holds few of them.
 */
final class RoundTripWindow implements Limit {

    private final Limit delegate;
    private final int minSamples;

    // guarded by this
    private boolean slowStart = true;
    private long endsAfter = Long.MIN_VALUE;
    private boolean open;
    private int samples;
    private long rttSum;
    private long minRtt;
    private int maxInflight;
    private boolean dropped;

    RoundTripWindow(Limit delegate, int minSamples) {
        this.delegate = delegate;
        this.minSamples = minSamples;
    }

    @Override
    public int getLimit() {
        return delegate.getLimit();
    }

    @Override
    public void notifyOnChange(Consumer<Integer> consumer) {
        delegate.notifyOnChange(consumer);
    }

    @Override
    public void onSample(long startTime, long rtt, int inflight, boolean didDrop) {
        long end = startTime + rtt;
        long meanRtt;
        int mostInflight;
        boolean anyDrop;
        synchronized (this) {
            if (slowStart) {
                slowStart = !didDrop;
                meanRtt = rtt;
                mostInflight = inflight;
                anyDrop = didDrop;
            } else {
                meanRtt = 0;
                mostInflight = 0;
                anyDrop = false;
            }
        }
        if (meanRtt > 0) {
            delegate.onSample(startTime, meanRtt, mostInflight, anyDrop);
            return;
        }
        synchronized (this) {
            if (!open) {
                open = true;
                endsAfter = end;
                minRtt = Long.MAX_VALUE;
            }
            samples++;
            rttSum += rtt;
            minRtt = Math.min(minRtt, rtt);
            maxInflight = Math.max(maxInflight, inflight);
            dropped |= didDrop;
            if (samples < minSamples || end - (endsAfter + minRtt) < 0) {
                return;
            }
            meanRtt = Math.max(1, rttSum / samples);
            mostInflight = maxInflight;
            anyDrop = dropped;
            open = false;
            samples = 0;
            rttSum = 0;
            maxInflight = 0;
            dropped = false;
        }
        delegate.onSample(startTime, meanRtt, mostInflight, anyDrop);
    }
}

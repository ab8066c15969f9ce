package dev.fanout.bench;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the items running at once, from inside the items: the concurrency a strategy really reaches,
 * whatever it was configured to.
 */
public final class ActiveCounter {

    private final AtomicInteger active = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();

    /** {@code task} with the count around it. */
    public <T> Strategy.Task<T> around(Strategy.Task<T> task) {
        return item -> {
            peak.accumulateAndGet(active.incrementAndGet(), Math::max);
            try {
                return task.run(item);
            } finally {
                active.decrementAndGet();
            }
        };
    }

    public int peak() {
        return peak.get();
    }

    public void reset() {
        peak.set(active.get());
    }
}

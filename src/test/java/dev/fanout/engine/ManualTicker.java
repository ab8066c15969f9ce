package dev.fanout.engine;

import java.time.Duration;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/** A ticker that only moves when a test moves it. */
public final class ManualTicker implements Ticker {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final CopyOnWriteArrayList<Runnable> listeners = new CopyOnWriteArrayList<>();

    @Override
    public long nanoTime() {
        return nanos.get();
    }

    /** Moves time on and wakes whoever waits on this ticker. */
    public void advance(Duration by) {
        advanceWithoutWaking(by);
        listeners.forEach(Runnable::run);
    }

    /** Moves time on silently: waiters notice at their next wake-up for another reason. */
    public void advanceWithoutWaking(Duration by) {
        nanos.addAndGet(by.toNanos());
    }

    @Override
    public Runnable onAdvance(Runnable listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }
}

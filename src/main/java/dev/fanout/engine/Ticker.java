package dev.fanout.engine;

import java.time.Duration;

/**
 * A monotonic source of nanoseconds. The engine reads all of its time through a ticker, so that
 * deadline logic can be tested exactly with a manual one. A wait of the engine's re-reads the ticker at
 * least every {@link #maxWait()}: the system ticker's waits end on their own timers and re-read it every
 * 100 ms as a safety net; any other ticker may jump without notice, and is re-read every millisecond.
 */
public interface Ticker {

    /** Monotonic nanoseconds; only differences between two readings of the same ticker mean anything. */
    long nanoTime();

    /** The longest a wait may go without re-reading this ticker: 1 ms, unless the ticker says otherwise. */
    default Duration maxWait() {
        return Duration.ofMillis(1);
    }

    /** The ticker backed by {@link System#nanoTime()}. */
    static Ticker system() {
        return SystemTicker.INSTANCE;
    }
}

enum SystemTicker implements Ticker {
    INSTANCE;

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    /** Waits on this ticker end by their own timers; the re-read is a safety net against a missed wake-up. */
    @Override
    public Duration maxWait() {
        return Duration.ofMillis(100);
    }
}

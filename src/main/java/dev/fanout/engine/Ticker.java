package dev.fanout.engine;

/**
 * A monotonic source of nanoseconds. The engine reads all of its time through a ticker, so that
 * deadline logic can be tested exactly with a manual one. The engine waits on the system ticker until
 * the moment it needs (never longer than {@code 100 ms} at a time), and re-reads any other ticker at least
 * every millisecond, since such a ticker may jump without notice.
 */
public interface Ticker {

    /** Monotonic nanoseconds; only differences between two readings of the same ticker mean anything. */
    long nanoTime();

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
}

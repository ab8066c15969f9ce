package dev.fanout.engine;

/**
 * A monotonic source of nanoseconds. The engine reads all of its time through a ticker, so that
 * deadline logic can be tested exactly with a manual one.
 */
public interface Ticker {

    /** Monotonic nanoseconds; only differences between two readings of the same ticker mean anything. */
    long nanoTime();

    /**
     * Registers a listener that a ticker which jumps (a test's manual ticker) calls after each jump,
     * so that the engine re-reads the time instead of sleeping through it. The system ticker never
     * jumps and ignores the listener.
     *
     * @return an action that removes the listener again
     */
    default Runnable onAdvance(Runnable listener) {
        return () -> {
        };
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
}

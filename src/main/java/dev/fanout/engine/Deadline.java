package dev.fanout.engine;

import java.time.Duration;
import java.util.Objects;

/**
 * An instant on a {@link Ticker} by which work must be done: the Java counterpart of a Go
 * {@code context.WithDeadline}. Immutable and safe to share between threads.
 */
public final class Deadline implements Comparable<Deadline> {

    private final Ticker ticker;
    private final long nanos;

    private Deadline(Ticker ticker, long nanos) {
        this.ticker = ticker;
        this.nanos = nanos;
    }

    /** The deadline {@code timeout} from now on the system ticker. */
    public static Deadline after(Duration timeout) {
        return after(timeout, Ticker.system());
    }

    /** The deadline {@code timeout} from now on {@code ticker}. */
    public static Deadline after(Duration timeout, Ticker ticker) {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(ticker, "ticker");
        return new Deadline(ticker, ticker.nanoTime() + saturatedNanos(timeout));
    }

    /** Time left before the deadline; zero or negative once it has passed. */
    public Duration remaining() {
        return Duration.ofNanos(remainingNanos());
    }

    public long remainingNanos() {
        return nanos - ticker.nanoTime();
    }

    public boolean isExpired() {
        return remainingNanos() <= 0;
    }

    /** This deadline moved earlier by {@code margin}. */
    public Deadline minus(Duration margin) {
        Objects.requireNonNull(margin, "margin");
        return new Deadline(ticker, nanos - saturatedNanos(margin));
    }

    /** The earlier of this deadline and {@code timeout} from now. */
    public Deadline atMost(Duration timeout) {
        Deadline other = after(timeout, ticker);
        return other.nanos - nanos < 0 ? other : this;
    }

    public Ticker ticker() {
        return ticker;
    }

    /** The deadline as a reading of its ticker. */
    public long nanos() {
        return nanos;
    }

    static Deadline atNanos(Ticker ticker, long nanos) {
        return new Deadline(ticker, nanos);
    }

    @Override
    public int compareTo(Deadline other) {
        return Long.compare(nanos - other.nanos, 0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Deadline d && d.ticker == ticker && d.nanos == nanos;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(nanos);
    }

    @Override
    public String toString() {
        return "Deadline[" + remaining() + " left]";
    }

    static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException overflow) {
            return d.isNegative() ? Long.MIN_VALUE / 2 : Long.MAX_VALUE / 2;
        }
    }
}

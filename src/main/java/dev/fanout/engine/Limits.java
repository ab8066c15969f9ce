package dev.fanout.engine;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The bounds of one run.
 *
 * @param maxConcurrency most items running at once (each on its own virtual thread)
 * @param itemTimeout    optional limit on one item's running time
 * @param cutoffMargin   the cut-off is the deadline minus this margin: nothing starts after it and
 *                       what runs is cancelled; the margin is the time left for fan-in and response
 * @param cancelGrace    after the cut-off, how long the engine waits (never past the deadline) for
 *                       cancelled items to stop before it returns without them
 */
public record Limits(int maxConcurrency, Optional<Duration> itemTimeout, Duration cutoffMargin, Duration cancelGrace) {

    public Limits {
        if (maxConcurrency < 1) {
            throw new IllegalArgumentException("maxConcurrency must be at least 1, was " + maxConcurrency);
        }
        Objects.requireNonNull(itemTimeout, "itemTimeout");
        Objects.requireNonNull(cutoffMargin, "cutoffMargin");
        Objects.requireNonNull(cancelGrace, "cancelGrace");
        itemTimeout.ifPresent(t -> {
            if (t.isNegative() || t.isZero()) {
                throw new IllegalArgumentException("itemTimeout must be positive, was " + t);
            }
        });
        if (cutoffMargin.isNegative()) {
            throw new IllegalArgumentException("cutoffMargin must not be negative, was " + cutoffMargin);
        }
        if (cancelGrace.isNegative()) {
            throw new IllegalArgumentException("cancelGrace must not be negative, was " + cancelGrace);
        }
    }

    /** At most {@code maxConcurrency} items at once, no item timeout, cut-off at the deadline. */
    public static Limits of(int maxConcurrency) {
        return new Limits(maxConcurrency, Optional.empty(), Duration.ZERO, Duration.ZERO);
    }

    public Limits withItemTimeout(Duration timeout) {
        return new Limits(maxConcurrency, Optional.of(timeout), cutoffMargin, cancelGrace);
    }

    public Limits withCutoffMargin(Duration margin) {
        return new Limits(maxConcurrency, itemTimeout, margin, cancelGrace);
    }

    public Limits withCancelGrace(Duration grace) {
        return new Limits(maxConcurrency, itemTimeout, cutoffMargin, grace);
    }
}

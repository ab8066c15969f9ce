package dev.fanout.engine;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Capped exponential backoff with full jitter: before retry {@code n} (the attempt that failed was
 * {@code n}), a pause drawn uniformly between zero and {@code min(cap, base × 2^(n-1))}.
 * <p>
 * Full jitter rather than equal jitter (half fixed, half random): both callers are many clients that fail
 * together (the items of a batch against one server, the invocations of a burst against one queue), and
 * full jitter spreads their retries widest, so the retries themselves do not arrive as a second burst. The
 * pause has no floor; each caller still checks that its deadline leaves room for the pause and another
 * attempt. JDK-only, in the engine package, so that the work handlers and the results sink both use it
 * without an import that runs up the layers.
 *
 * @param base the first ceiling; doubles per attempt
 * @param cap  the largest ceiling
 */
public record Backoff(Duration base, Duration cap) {

    public Backoff {
        Objects.requireNonNull(base, "base");
        Objects.requireNonNull(cap, "cap");
        if (base.isNegative() || cap.isNegative()) {
            throw new IllegalArgumentException("a backoff's base and cap must not be negative, were " + base + " and " + cap);
        }
    }

    /** The pause before the attempt after {@code attempt} (1 for the first); a ceiling of zero draws zero. */
    public Duration pause(int attempt) {
        return Duration.ofNanos(ThreadLocalRandom.current().nextLong(ceilingNanos(attempt) + 1));
    }

    /**
     * The largest pause after {@code attempt}: {@code min(cap, base × 2^(attempt-1))}, in nanoseconds, and
     * never more than {@code Long.MAX_VALUE - 1} (so that the ceiling itself can be drawn).
     */
    public long ceilingNanos(int attempt) {
        int doublings = Math.min(Math.max(attempt, 1) - 1, 20);
        long baseNanos = Deadline.saturatedNanos(base);
        long ceiling = baseNanos > (MAX_CEILING >> doublings) ? MAX_CEILING : baseNanos << doublings;
        return Math.min(ceiling, Math.min(Deadline.saturatedNanos(cap), MAX_CEILING));
    }

    private static final long MAX_CEILING = Long.MAX_VALUE - 1;
}

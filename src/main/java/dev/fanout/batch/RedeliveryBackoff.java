package dev.fanout.batch;

import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

import dev.fanout.engine.Cancellation;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.RetryAfter;

/**
 * How long a record handed back to its queue stays away before the queue delivers it again: the policy alone,
 * without the queue (the entry point applies it with {@code ChangeMessageVisibilityBatch}).
 * <ul>
 * <li>A retryable failure (and an item cancelled at its own timeout, which ran too long for a reason of its
 * own) backs off exponentially on the record's receive count {@code n} (SQS's {@code ApproximateReceiveCount},
 * 1 on the first delivery): {@link Jitter#FULL full jitter} draws from {@code [0, min(max, base × 2^(n−1))]};
 * {@link Jitter#DECORRELATED decorrelated jitter} draws from {@code [base, min(max, 3 × previous)]}, where the
 * previous delay, which no invocation remembers, is taken as the ceiling the exponential had one receive
 * earlier ({@code base × 2^(n−2)}, and {@code base} for {@code n <= 2}).</li>
 * <li>A failure that asked for its own wait ({@link Outcome.Failed#retryAfter()}) gets the larger of that and the
 * backoff's draw, capped at {@code max}: the record comes back no earlier than the service asked, unless that is
 * beyond the cap. A negative wait is ignored and a wait beyond {@code max} is capped; both are {@link Fault}s, and
 * so is a wait the failure was given but could not read ({@link dev.fanout.engine.RetryAfter#unreadableRetryAfter()}).</li>
 * <li>A record that did not fail (timed out or not started at the invocation's cut-off, or done but its result not
 * confirmed) comes back after {@code unfinished}, a short fixed delay: it was not its fault.</li>
 * <li>FIFO: a record held back behind a delayed record of its group gets that record's delay, so the group comes
 * back together and in order.</li>
 * </ul>
 * Delays are whole seconds, the unit of SQS's visibility timeout, and at most {@link #MAX_DELAY} (SQS's limit).
 */
public final class RedeliveryBackoff {

    /** SQS's longest visibility timeout. */
    public static final Duration MAX_DELAY = Duration.ofHours(12);

    /** How the backoff draws its delay. */
    public enum Jitter {
        FULL, DECORRELATED
    }

    /**
     * @param base       the first ceiling of the exponential; whole seconds
     * @param max        the longest delay; whole seconds, at most {@link #MAX_DELAY}
     * @param unfinished the fixed delay of a record that did not fail; whole seconds, at most {@code max}
     * @param jitter     how the delay is drawn
     */
    public record Settings(Duration base, Duration max, Duration unfinished, Jitter jitter) {
        public Settings {
            wholeSeconds("base delay", base);
            wholeSeconds("max delay", max);
            wholeSeconds("unfinished delay", unfinished);
            Objects.requireNonNull(jitter, "jitter");
            if (max.compareTo(MAX_DELAY) > 0) {
                throw new IllegalArgumentException("the max delay must be at most SQS's 12 h visibility limit, was " + max);
            }
            if (base.compareTo(max) > 0) {
                throw new IllegalArgumentException("the base delay " + base + " exceeds the max delay " + max);
            }
            if (unfinished.compareTo(max) > 0) {
                throw new IllegalArgumentException("the unfinished delay " + unfinished + " exceeds the max delay " + max);
            }
        }

        private static void wholeSeconds(String what, Duration value) {
            Objects.requireNonNull(value, what);
            if (value.isNegative() || value.getNano() != 0) {
                throw new IllegalArgumentException("the " + what + " must be whole seconds, not negative"
                        + " (SQS's visibility timeout is in seconds), was " + value);
            }
        }
    }

    /** Why a record gets its delay. */
    public enum Reason {
        /** Exponential backoff on its receive count. */
        BACKOFF,
        /** Its failure's own wait, longer than the backoff's draw. */
        ASKED,
        /** It did not fail: the short fixed delay. */
        UNFINISHED,
        /** Held back behind a delayed record of its FIFO group: that record's delay. */
        HELD_BEHIND
    }

    /** Input the backoff worked around; the record still comes back. */
    public enum Fault {
        /** The record had no receive count (or not a positive one): taken as the first delivery. */
        NO_RECEIVE_COUNT,
        /** The failure asked for a negative wait: ignored. */
        NEGATIVE_RETRY_AFTER,
        /** The failure asked for more than the max delay: capped. */
        RETRY_AFTER_OVER_MAX,
        /** The failure was given a wait it could not read (a service's Retry-After): the backoff's delay. */
        UNREADABLE_RETRY_AFTER
    }

    /** A handed-back record's delay, why, and what was wrong with its input. */
    public record Delay(Duration delay, Reason reason, Set<Fault> faults) {
        public Delay {
            Objects.requireNonNull(delay, "delay");
            Objects.requireNonNull(reason, "reason");
            faults = Set.copyOf(faults);
        }
    }

    private final Settings settings;
    private final Supplier<? extends RandomGenerator> random;

    public RedeliveryBackoff(Settings settings) {
        this(settings, ThreadLocalRandom::current);
    }

    /** @param random the source of the jitter, asked once per draw (a test's fixed one) */
    public RedeliveryBackoff(Settings settings, Supplier<? extends RandomGenerator> random) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.random = Objects.requireNonNull(random, "random");
    }

    public Settings settings() {
        return settings;
    }

    /**
     * The delay of each of {@code n} records that is handed back (null for an acknowledged one). On a FIFO source
     * ({@code group} not null), a record after a handed-back record of its group gets that record's delay.
     *
     * @param outcome      each record's outcome, null if it has none (the batch was skipped)
     * @param receiveCount each record's receive count, null if unknown
     */
    public Delay[] delays(int n, boolean[] acknowledged, IntFunction<Outcome<?>> outcome,
            IntFunction<Integer> receiveCount, IntFunction<String> group) {
        Delay[] delays = new Delay[n];
        Map<String, Delay> heldGroups = new HashMap<>();
        for (int i = 0; i < n; i++) {
            if (acknowledged[i]) {
                continue;
            }
            String g = group.apply(i);
            Delay ahead = g == null ? null : heldGroups.get(g);
            if (ahead != null) {
                delays[i] = new Delay(ahead.delay(), Reason.HELD_BEHIND, Set.of());
            } else {
                delays[i] = delayOf(outcome.apply(i), receiveCount.apply(i));
                if (g != null) {
                    heldGroups.put(g, delays[i]);
                }
            }
        }
        return delays;
    }

    /** The delay of one handed-back record, from its outcome (null: none) and receive count (null: unknown). */
    public Delay delayOf(Outcome<?> outcome, Integer receiveCount) {
        boolean failed = switch (outcome) {
            case null -> false;
            case Outcome.Failed<?> f -> f.retryable();
            case Outcome.TimedOut<?> t -> t.cause() == Cancellation.Cause.ITEM_TIMEOUT;
            default -> false;
        };
        if (!failed) {
            return new Delay(settings.unfinished(), Reason.UNFINISHED, Set.of());
        }
        Set<Fault> faults = EnumSet.noneOf(Fault.class);
        int n = 1;
        if (receiveCount == null || receiveCount < 1) {
            faults.add(Fault.NO_RECEIVE_COUNT);
        } else {
            n = receiveCount;
        }
        long drawn = backoffSeconds(n);
        long delay = drawn;
        Reason reason = Reason.BACKOFF;
        Optional<Duration> asked = outcome instanceof Outcome.Failed<?> f ? f.retryAfter() : Optional.empty();
        if (outcome instanceof Outcome.Failed<?> f && f.error() instanceof RetryAfter r
                && r.unreadableRetryAfter().isPresent()) {
            faults.add(Fault.UNREADABLE_RETRY_AFTER);
        }
        if (asked.isPresent()) {
            Duration wait = asked.get();
            if (wait.isNegative()) {
                faults.add(Fault.NEGATIVE_RETRY_AFTER);
            } else {
                long maxSeconds = settings.max().toSeconds();
                long askedSeconds;
                if (wait.compareTo(settings.max()) > 0) {
                    faults.add(Fault.RETRY_AFTER_OVER_MAX);
                    askedSeconds = maxSeconds;
                } else {
                    // rounded up: the record comes back no earlier than asked
                    askedSeconds = wait.toSeconds() + (wait.getNano() > 0 ? 1 : 0);
                    askedSeconds = Math.min(askedSeconds, maxSeconds);
                }
                if (askedSeconds > drawn) {
                    delay = askedSeconds;
                    reason = Reason.ASKED;
                }
            }
        }
        return new Delay(Duration.ofSeconds(delay), reason, faults);
    }

    /** The backoff's draw for receive {@code n}, in seconds. */
    long backoffSeconds(int n) {
        long base = settings.base().toSeconds();
        long max = settings.max().toSeconds();
        return switch (settings.jitter()) {
            case FULL -> draw(0, ceiling(base, n - 1, max));
            case DECORRELATED -> draw(base, Math.max(base, Math.min(max, 3 * ceiling(base, Math.max(n - 2, 0), max))));
        };
    }

    /** {@code min(max, base × 2^doublings)} without overflow; max is at most 43,200. */
    static long ceiling(long base, int doublings, long max) {
        long ceiling = base;
        for (int i = 0; i < doublings && ceiling > 0 && ceiling < max; i++) {
            ceiling *= 2;
        }
        return Math.min(ceiling, max);
    }

    /** A uniform draw from {@code [low, high]}, both included. */
    private long draw(long low, long high) {
        return low == high ? low : random.get().nextLong(low, high + 1);
    }
}

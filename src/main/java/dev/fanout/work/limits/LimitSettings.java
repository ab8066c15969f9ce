package dev.fanout.work.limits;

import java.util.Objects;

/**
 * The settings of the per-service limits.
 *
 * @param enabled     off: every permit is granted at once and nothing is learned
 * @param algorithm   how a limit moves ({@link LimitAlgorithm})
 * @param initial     a service's limit when it is first seen (and after a SnapStart restore)
 * @param min         the least a limit falls to
 * @param max         the most a limit grows to; never above the engine's bound
 * @param maxServices services tracked at once; the least recently used is forgotten beyond it
 */
public record LimitSettings(boolean enabled, LimitAlgorithm algorithm, int initial, int min, int max, int maxServices) {

    public LimitSettings {
        Objects.requireNonNull(algorithm, "algorithm");
        if (min < 1) {
            throw new IllegalArgumentException("the minimum limit must be at least 1, was " + min);
        }
        if (max < min) {
            throw new IllegalArgumentException("the maximum limit (" + max + ") is below the minimum (" + min + ")");
        }
        if (initial < min || initial > max) {
            throw new IllegalArgumentException("the initial limit (" + initial + ") is outside [" + min + ", " + max
                    + "], the minimum and maximum");
        }
        if (maxServices < 1) {
            throw new IllegalArgumentException("the services tracked must be at least 1, was " + maxServices);
        }
    }

    /** These settings with {@code max} (and {@code initial}, {@code min}) brought down to {@code bound}. */
    public LimitSettings boundedBy(int bound) {
        if (bound < 1) {
            throw new IllegalArgumentException("the engine's bound must be at least 1, was " + bound);
        }
        int m = Math.min(max, bound);
        int lo = Math.min(min, m);
        return new LimitSettings(enabled, algorithm, Math.max(lo, Math.min(initial, m)), lo, m, maxServices);
    }
}

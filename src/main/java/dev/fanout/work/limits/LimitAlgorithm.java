package dev.fanout.work.limits;

/**
 * The algorithms of a service's limit, all of them Netflix's ({@code concurrency-limits-core}); Fanout only
 * chooses the bounds. Read from the library's 0.5.4 sources:
 * <ul>
 * <li>{@link #AIMD}: loss-based. Each answer that is no drop, while at least half the limit is in use, adds 1;
 * each drop (429, 503, connection failure, timeout) or an answer slower than 5 s multiplies the limit by 0.9.</li>
 * <li>{@link #VEGAS}: latency-based. It keeps the no-load latency (the least seen, probed again now and then)
 * and estimates the queue at the service from how far the latency is above it: grows while there is none,
 * shrinks when it builds; a drop shrinks it too (by log10 of the limit).</li>
 * <li>{@link #GRADIENT2}: latency-based, on the ratio of a long-term to the short-term latency. It never reads
 * drops: a service that answers 429 quickly looks healthy to it, and its limit grows.</li>
 * </ul>
 * The library's classes are loaded with the first service's limit ({@link ServiceLimit}), not with this enum:
 * reading the settings at start costs nothing of the library.
 */
public enum LimitAlgorithm {
    AIMD, VEGAS, GRADIENT2;

    /** The algorithm of a setting's value: {@code aimd}, {@code vegas} or {@code gradient2}, in any case. */
    public static LimitAlgorithm of(String name) {
        for (LimitAlgorithm algorithm : values()) {
            if (algorithm.name().equalsIgnoreCase(name.strip())) {
                return algorithm;
            }
        }
        throw new IllegalArgumentException("unknown algorithm '" + name + "': aimd, vegas or gradient2");
    }
}

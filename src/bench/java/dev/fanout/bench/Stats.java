package dev.fanout.bench;

import java.util.Arrays;
import java.util.Collection;
import java.util.function.DoubleUnaryOperator;

/**
 * Median, nearest-rank 95th percentile, min and max of repeated measurements.
 */
public record Stats(double median, double p95, double min, double max, int count) {

    public static Stats of(Collection<? extends Number> samples) {
        return of(samples.stream().mapToDouble(Number::doubleValue).toArray());
    }

    public static Stats of(double... samples) {
        if (samples.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        double p95 = sorted[Math.max(1, (int) Math.ceil(0.95 * n)) - 1];
        return new Stats(median, p95, sorted[0], sorted[n - 1], n);
    }

    /** The same figures in another unit, or scaled. */
    public Stats map(DoubleUnaryOperator f) {
        double a = f.applyAsDouble(min);
        double b = f.applyAsDouble(max);
        return new Stats(f.applyAsDouble(median), f.applyAsDouble(p95), Math.min(a, b), Math.max(a, b), count);
    }
}

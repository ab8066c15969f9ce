package dev.fanout.batch;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The invocation summary's figures that are metrics: each with the one name the summaries write it under and its
 * unit. The writers (the entry points, {@link RecordBatch}, {@link SummaryFigures}, {@link Redelivery}, the HTTP answer)
 * put a figure under {@code X.key()}, and the EMF declaration ({@code function/InvocationMetrics}) declares exactly
 * these, so a name cannot be written one way and declared another. A summary member that is not listed here stays a
 * plain member of the log event, never a metric; per-type counts ({@code items.<type>}, {@code failures.<type>}) are
 * the one family of names made at run time.
 * <p>
 * A new metric is one line here (name, key, unit) and a row in docs/observability.md; {@code MetricNamesTest} fails
 * until some path writes it.
 */
public enum Metric {

    RECORDS("records", Unit.COUNT),
    ITEMS("items", Unit.COUNT),
    SUCCEEDED("succeeded", Unit.COUNT),
    FAILED("failed", Unit.COUNT),
    REJECTED("rejected", Unit.COUNT),
    TIMED_OUT("timedOut", Unit.COUNT),
    NOT_STARTED("notStarted", Unit.COUNT),
    ABANDONED("abandoned", Unit.COUNT),
    BATCH_ITEM_FAILURES("batchItemFailures", Unit.COUNT),
    RESULTS("results", Unit.COUNT),
    DELIVERED("delivered", Unit.COUNT),
    OUTPUT_TOO_LARGE("outputTooLarge", Unit.COUNT),
    SEND_REQUESTS("sendRequests", Unit.COUNT),
    SEND_RETRIES("sendRetries", Unit.COUNT),
    THROTTLED("throttled", Unit.COUNT),
    PEAK_CONCURRENCY("peakConcurrency", Unit.COUNT),
    ANSWERS_2XX("answers2xx", Unit.COUNT),
    ANSWERS_4XX("answers4xx", Unit.COUNT),
    ANSWERS_5XX("answers5xx", Unit.COUNT),
    RECORDS_DELAYED("recordsDelayed", Unit.COUNT),
    RECORDS_NOT_DELAYED("recordsNotDelayed", Unit.COUNT),
    VISIBILITY_REQUESTS("visibilityRequests", Unit.COUNT),
    VISIBILITY_FAILURES("visibilityFailures", Unit.COUNT),
    REDELIVERY_FAULTS("redeliveryFaults", Unit.COUNT),
    DELAY_MIN_SECONDS("delayMinSeconds", Unit.SECONDS),
    DELAY_MAX_SECONDS("delayMaxSeconds", Unit.SECONDS),
    /** The per-service limits (issue 23): the lowest and highest in force, the services used, permits waited for. */
    LIMIT_LOWEST("limitLowest", Unit.COUNT),
    LIMIT_HIGHEST("limitHighest", Unit.COUNT),
    LIMITED_SERVICES("limitedServices", Unit.COUNT),
    PERMITS_WAITED("permitsWaited", Unit.COUNT),
    /** The engine's run, from its start to its return, in both entry points' summaries. */
    ENGINE_MS("engineMs", Unit.MILLISECONDS),
    ELAPSED_MS("elapsedMs", Unit.MILLISECONDS),
    FAN_IN_MS("fanInMs", Unit.MILLISECONDS),
    TIME_LEFT_MS("timeLeftMs", Unit.MILLISECONDS),
    P50_MS("p50Ms", Unit.MILLISECONDS),
    P95_MS("p95Ms", Unit.MILLISECONDS),
    MAX_MS("maxMs", Unit.MILLISECONDS);

    /** A metric's unit, by the name CloudWatch's Embedded Metric Format gives it. */
    public enum Unit {
        COUNT("Count"), MILLISECONDS("Milliseconds"), SECONDS("Seconds");

        private final String emfName;

        Unit(String emfName) {
            this.emfName = emfName;
        }

        public String emfName() {
            return emfName;
        }
    }

    private static final Map<String, Metric> BY_KEY = Stream.of(values())
            .collect(Collectors.toUnmodifiableMap(Metric::key, Function.identity()));

    private final String key;
    private final Unit unit;

    Metric(String key, Unit unit) {
        this.key = key;
        this.unit = unit;
    }

    /** The summary member's name. */
    public String key() {
        return key;
    }

    public Unit unit() {
        return unit;
    }

    /** The metric written under {@code key}, if it is one. */
    public static Optional<Metric> byKey(String key) {
        return Optional.ofNullable(BY_KEY.get(key));
    }

    /**
     * The unit of the summary member {@code key} if it is a metric: a listed one, or a per-type count
     * ({@link SummaryFigures#TYPE_ITEMS}, {@link SummaryFigures#TYPE_FAILURES}); empty for a plain member.
     */
    public static Optional<Unit> unitOf(String key) {
        if (key.startsWith(SummaryFigures.TYPE_ITEMS) || key.startsWith(SummaryFigures.TYPE_FAILURES)) {
            return Optional.of(Unit.COUNT);
        }
        return byKey(key).map(Metric::unit);
    }
}

package dev.fanout.batch;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.IntFunction;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.engine.Outcome;
import dev.fanout.engine.RunSummary;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkItem;

/**
 * The figures of a batch as both entry points name them in their summaries (the HTTP answer's
 * {@code summary}, each invocation's log event): one name per figure. The entry points turn the numbers into
 * metrics by these names, and template.yaml's alarms and dashboard read them.
 */
public final class SummaryFigures {

    /** Per-type figures: {@code items.<type>} and {@code failures.<type>} (failed, rejected or timed out). */
    public static final String TYPE_ITEMS = "items.";
    public static final String TYPE_FAILURES = "failures.";

    private SummaryFigures() {
    }

    /** The counts by outcome and the engine's time of a run, as both entry points report them. */
    public static void outcomes(ObjectNode summary, RunSummary run, int outputsDropped) {
        summary.put(Metric.SUCCEEDED.key(), run.succeeded() - outputsDropped)
                .put(Metric.FAILED.key(), run.failed() + outputsDropped).put(Metric.REJECTED.key(), run.rejected())
                .put(Metric.TIMED_OUT.key(), run.timedOut()).put(Metric.NOT_STARTED.key(), run.notStarted())
                .put(Metric.PEAK_CONCURRENCY.key(), run.peakConcurrency());
    }

    /**
     * Adds {@code items.<type>} and {@code failures.<type>} for each registered type in the batch. Types
     * no handler is registered for are counted under {@code other}: the names come from user input, and
     * each new name would be a new metric.
     */
    public static void countByType(ObjectNode summary, List<ParsedItem> items, IntFunction<Outcome<?>> outcomes,
            Set<String> knownTypes) {
        Map<String, int[]> byType = new TreeMap<>();
        for (int i = 0; i < items.size(); i++) {
            String type = items.get(i) instanceof ParsedItem.Valid(WorkItem item) && knownTypes.contains(item.type())
                    ? item.type() : "other";
            int[] counts = byType.computeIfAbsent(type, t -> new int[2]);
            counts[0]++;
            Outcome.Status status = outcomes.apply(i).status();
            counts[1] += status == Outcome.Status.FAILED || status == Outcome.Status.REJECTED
                    || status == Outcome.Status.TIMED_OUT ? 1 : 0;
        }
        byType.forEach((type, counts) -> summary.put(TYPE_ITEMS + type, counts[0]).put(TYPE_FAILURES + type, counts[1]));
    }
}

package dev.fanout.batch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.RedeliveryBackoff.Delay;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.RetryAfter;
import dev.fanout.fanin.SqsVisibility;

/**
 * Gives each record a batch hands back its {@link RedeliveryBackoff delay}, as a new visibility timeout on its
 * queue, before the entry point answers.
 * <p>
 * The changes come out of the response's share of the invocation: they run after fan-in, by the deadline less
 * {@code responseReserve} (which is less than the response margin), so they never make an answer late. A record
 * whose change did not happen (no time left, a call that failed for good, an expired or foreign receipt handle, a
 * record without a receipt handle or a queue) is handed back all the same and comes back at the queue's own
 * visibility timeout: a delay is never what keeps a record. Such records and the inputs the backoff worked around
 * are counted in the summary and logged once per invocation.
 */
public final class Redelivery {

    private static final Logger LOG = Logger.getLogger(Redelivery.class);

    /** Where a record came from: its receipt handle and its queue's URL, either missing if the event lacked it. */
    public record Source(String receiptHandle, Optional<String> queueUrl) {
        public Source {
            Objects.requireNonNull(queueUrl, "queueUrl");
        }
    }

    /**
     * What became of a batch's handed-back records.
     *
     * @param delays  each record's delay, null for an acknowledged one
     * @param changed whether each record's visibility was changed to its delay
     */
    public record Report(List<Delay> delays, List<Boolean> changed) {

        public Report {
            delays = Collections.unmodifiableList(new ArrayList<>(delays)); // null for an acknowledged record
            changed = List.copyOf(changed);
        }

        static Report of(Delay[] delays, boolean[] changed) {
            List<Boolean> flags = new ArrayList<>(changed.length);
            for (boolean c : changed) {
                flags.add(c);
            }
            return new Report(Arrays.asList(delays), flags);
        }
    }


    private final RedeliveryBackoff backoff;
    private final SqsVisibility visibility;
    private final Duration responseReserve;

    public Redelivery(RedeliveryBackoff backoff, SqsVisibility visibility, Duration responseReserve) {
        this.backoff = Objects.requireNonNull(backoff, "backoff");
        this.visibility = Objects.requireNonNull(visibility, "visibility");
        this.responseReserve = Objects.requireNonNull(responseReserve, "responseReserve");
    }

    public RedeliveryBackoff backoff() {
        return backoff;
    }

    public Duration responseReserve() {
        return responseReserve;
    }

    /** The invocation's redelivery figures, as the summary's metrics ({@link Metric}). */
    private static void figures(ObjectNode summary, int delayed, int notDelayed, int requests, int failures,
            int faults) {
        summary.put(Metric.RECORDS_DELAYED.key(), delayed).put(Metric.RECORDS_NOT_DELAYED.key(), notDelayed)
                .put(Metric.VISIBILITY_REQUESTS.key(), requests).put(Metric.VISIBILITY_FAILURES.key(), failures)
                .put(Metric.REDELIVERY_FAULTS.key(), faults);
    }

    /**
     * Delays the records of {@code answer} that are handed back, by {@code deadline} less the response reserve,
     * and writes the figures into the answer's summary.
     *
     * @param sources    each record's receipt handle and queue
     * @param fifoSource the records' groups hold each other back ({@link SourceRecord#group()})
     */
    public Report delay(List<SourceRecord> records, List<Source> sources, boolean fifoSource, RecordBatch.Answer answer,
            Deadline deadline) {
        int n = records.size();
        if (n > 0 && answer.outcomes() == null) {
            // skipped: the function's timeout is shorter than its cut-off margin, so every invocation skips; the
            // records stay untouched, and come back at the queue's visibility timeout rather than loop to the DLQ
            figures(answer.summary(), 0, n, 0, 0, 0);
            return Report.of(new Delay[n], new boolean[n]);
        }
        Delay[] delays = backoff.delays(n, answer.acknowledgedArray(), answer::outcome,
                i -> records.get(i).receiveCount(), i -> fifoSource ? records.get(i).group().orElse(null) : null);
        Map<String, Integer> faults = new TreeMap<>();
        List<SqsVisibility.Change> changes = new ArrayList<>();
        List<Integer> changed = new ArrayList<>();
        String unreadable = null;
        int handedBack = 0;
        for (int i = 0; i < n; i++) {
            Delay delay = delays[i];
            if (delay == null) {
                continue;
            }
            handedBack++;
            delay.faults().forEach(f -> faults.merge(f.name(), 1, Integer::sum));
            if (unreadable == null && delay.faults().contains(RedeliveryBackoff.Fault.UNREADABLE_RETRY_AFTER)
                    && answer.outcome(i) instanceof Outcome.Failed<?> f && f.error() instanceof RetryAfter r) {
                unreadable = r.unreadableRetryAfter().orElse(null);
            }
            Source source = sources.get(i);
            if (source.receiptHandle() == null || source.receiptHandle().isEmpty()) {
                faults.merge("NO_RECEIPT_HANDLE", 1, Integer::sum);
            } else if (source.queueUrl().isEmpty()) {
                faults.merge("NO_QUEUE_URL", 1, Integer::sum);
            } else {
                changes.add(new SqsVisibility.Change(source.queueUrl().get(), source.receiptHandle(), delay.delay()));
                changed.add(i);
            }
        }
        boolean[] done = new boolean[n];
        ObjectNode summary = answer.summary();
        if (handedBack == 0) {
            figures(summary, 0, 0, 0, 0, 0);
            return Report.of(delays, done);
        }
        SqsVisibility.Result result = changes.isEmpty() ? new SqsVisibility.Result(List.of(), 0, 0, 0)
                : visibility.change(changes, deadline.minus(responseReserve));
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        int delayed = 0;
        String firstFailure = null;
        for (int c = 0; c < changes.size(); c++) {
            if (result.changed(c)) {
                int i = changed.get(c);
                done[i] = true;
                delayed++;
                long seconds = delays[i].delay().toSeconds();
                min = Math.min(min, seconds);
                max = Math.max(max, seconds);
            } else if (firstFailure == null) {
                firstFailure = result.failures().get(c);
            }
        }
        int faultCount = faults.values().stream().mapToInt(Integer::intValue).sum();
        figures(summary, delayed, handedBack - delayed, result.requests(), changes.size() - result.changedCount(),
                faultCount);
        if (delayed > 0) {
            summary.put(Metric.DELAY_MIN_SECONDS.key(), min).put(Metric.DELAY_MAX_SECONDS.key(), max);
        }
        if (faultCount > 0 || firstFailure != null) {
            LOG.warnf("%d of %d handed-back records not delayed (they come back at the queue's visibility timeout)%s%s%s",
                    handedBack - delayed, handedBack, firstFailure == null ? "" : "; first failure: " + firstFailure,
                    faults.isEmpty() ? "" : "; input faults " + faults,
                    unreadable == null ? "" : "; first unreadable Retry-After: \"" + unreadable + "\"");
        }
        return Report.of(delays, done);
    }
}

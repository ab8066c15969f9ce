package dev.fanout.batch.http;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.Metric;
import dev.fanout.batch.ResultJson;
import dev.fanout.batch.ResultRecord;
import dev.fanout.batch.SummaryFigures;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.ItemHandler;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.RunSummary;
import dev.fanout.work.ParsedItem;

/**
 * The 200 answer of an HTTP batch: every item's result in input order, in {@link ResultRecord}'s shape, and the
 * summary, within Lambda's response limit counted in the bytes written.
 * <p>
 * Each output is serialised once, on its item's thread as it finishes ({@link #preparing}), into the escaped
 * form it takes in the answer; building the answer is then a copy of at most the limit, which the cut-off
 * margin is sized for ({@code AnswerMeasure}, in the benchmarks). Client text echoed in results (a type, a reason that quotes it) is
 * capped; an item's id is echoed whole, and a request whose ids could not fit in an answer is over the
 * synchronous limits ({@link #overSynchronousLimits}). All outputs are kept when the whole answer fits;
 * otherwise outputs are dropped, from the first that does not fit, and those items fail with
 * {@code OutputDropped} (retryable: resubmit them) or, if an output could not fit even alone,
 * {@code OutputTooLarge} (not retryable).
 */
public final class ResultsAnswer {

    /** Most bytes a result's {@code type}, error type and error message take in the answer. */
    public static final int MAX_TYPE_BYTES = 200;
    public static final int MAX_MESSAGE_BYTES = 600;
    /** Room kept for the summary, which is written after the results are chosen. */
    public static final int SUMMARY_RESERVE = 1_024;

    private static final Map<String, String> JSON = Map.of("Content-Type", "application/json");
    private static final byte[] RESULTS_OPEN = EscapedJson.escape("{\"results\":[");
    private static final byte[] COMMA = EscapedJson.escape(",");
    private static final byte[] SUMMARY_OPEN = EscapedJson.escape("],\"summary\":");
    private static final byte[] CLOSE = EscapedJson.escape("}");
    private static final byte[] OUTPUT_FIELD = EscapedJson.escape(ResultJson.outputField());
    private static final int SUCCEEDED_BYTES = "succeeded".length();
    private static final int FAILED_BYTES = "failed".length();
    /**
     * The most a result takes in the answer without its id and output: the longest status, error type,
     * message and timing. Checked up front, so that every item's result fits even with its output dropped.
     */
    public static final int MAX_RESULT_BYTES_WITHOUT_ID = EscapedJson.escape(ResultJson.withoutOutput(new ResultRecord(null,
            "", "", ResultRecord.status(Outcome.Status.NOT_STARTED), null, new ResultRecord.Error("", "", false), null,
            "+1000000000-12-31T23:59:59.999999999Z", Long.MIN_VALUE)) + ",").length + 2 * MAX_TYPE_BYTES + MAX_MESSAGE_BYTES;


    private final ObjectMapper mapper;
    private final ResultJson results;
    private final int maxItems;
    private final int maxResponseBytes;
    private final int droppedErrorBound;
    private final LongSupplier gcMillis;

    /**
     * @param maxItems         most items one request runs synchronously
     * @param maxResponseBytes most bytes of a response, envelope included
     */
    public ResultsAnswer(ObjectMapper mapper, int maxItems, int maxResponseBytes) {
        this(mapper, maxItems, maxResponseBytes, ResultsAnswer::gcMillis);
    }

    /** With the collectors' time given: a test cannot make the JVM collect garbage for an exact time. */
    ResultsAnswer(ObjectMapper mapper, int maxItems, int maxResponseBytes, LongSupplier gcMillis) {
        this.mapper = mapper;
        this.results = new ResultJson(mapper);
        this.maxItems = maxItems;
        this.maxResponseBytes = maxResponseBytes;
        this.droppedErrorBound = droppedErrorBound();
        this.gcMillis = gcMillis;
    }

    /** Why the request cannot be answered synchronously, or null if it can. */
    String overSynchronousLimits(List<ParsedItem> items) {
        if (items.size() > maxItems) {
            return "a request runs at most " + maxItems + " items synchronously, this one has " + items.size();
        }
        long worst = fixedAnswerBytes(200, JSON);
        for (ParsedItem item : items) {
            worst += EscapedJson.answerSize(item.id()) + MAX_RESULT_BYTES_WITHOUT_ID;
        }
        if (worst > maxResponseBytes) {
            return "the items' results could take " + worst + " bytes, more than a response can carry ("
                    + maxResponseBytes + "): use shorter ids or fewer items";
        }
        return null;
    }

    private long fixedAnswerBytes(int status, Map<String, String> headers) {
        return HttpAnswer.envelopeSize(mapper, status, headers) + RESULTS_OPEN.length + SUMMARY_OPEN.length
                + CLOSE.length + SUMMARY_RESERVE;
    }

    /**
     * An output serialised once, on its item's thread, into the form it takes in the answer. Its bytes are not copied
     * (they are most of the answer); equality is by content, as a record's should be.
     */
    record PreparedOutput(byte[] escaped) {

        @Override
        public boolean equals(Object other) {
            return other instanceof PreparedOutput that && Arrays.equals(escaped, that.escaped);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(escaped);
        }

        @Override
        public String toString() {
            return "PreparedOutput[" + escaped.length + " bytes]";
        }
    }

    ItemHandler<ParsedItem, PreparedOutput> preparing(ItemHandler<ParsedItem, JsonNode> handler) {
        return context -> prepare(handler.handle(context));
    }

    private PreparedOutput prepare(JsonNode output) {
        try {
            // answerBytes escapes what SQS refuses itself: the output's raw text gives the same bytes
            return new PreparedOutput(EscapedJson.escape(results.outputText(output)));
        } catch (JsonProcessingException e) {
            throw new NonRetryableException("the output could not be written as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * The answer to a run: results in input order within the response limit, and the summary. After the
     * engine, so its time comes out of the cut-off margin; the benchmarks' {@code AnswerMeasure} times it. The summary goes in the
     * answer and in {@code log}, with the items counted by type ({@code knownTypes}: the others count as other).
     */
    HttpAnswer assemble(List<ParsedItem> items, BatchResult<PreparedOutput> run, ObjectNode log, Set<String> knownTypes) {
        long built = System.nanoTime();
        long gcBefore = gcMillis.getAsLong();
        int n = items.size();
        byte[][] minimal = new byte[n][];
        long[] minimalSize = new long[n];
        byte[][] head = new byte[n][];
        byte[][] tail = new byte[n][];
        long[] full = new long[n];
        long minimalTotal = 0;
        for (int i = 0; i < n; i++) {
            Outcome<PreparedOutput> outcome = run.outcome(i);
            ResultRecord result = capped(ResultRecord.of(null, items.get(i), withoutValue(outcome), null));
            if (outcome instanceof Outcome.Succeeded<PreparedOutput> succeeded) {
                head[i] = EscapedJson.escape(ResultJson.head(result));
                tail[i] = EscapedJson.escape(ResultJson.tail(result));
                full[i] = head[i].length + OUTPUT_FIELD.length + succeeded.value().escaped().length + tail[i].length;
                // the result with its output dropped: written only if it comes to that, its size bounded now
                minimalSize[i] = head[i].length - SUCCEEDED_BYTES + FAILED_BYTES + droppedErrorBound + tail[i].length;
            } else {
                minimal[i] = EscapedJson.escape(ResultJson.withoutOutput(result));
                minimalSize[i] = minimal[i].length;
                full[i] = minimal[i].length;
            }
            minimalTotal += minimalSize[i] + (i > 0 ? COMMA.length : 0);
        }
        long budget = maxResponseBytes - fixedAnswerBytes(200, JSON);
        if (minimalTotal > budget) {
            // overSynchronousLimits keeps this from happening: every result fits with its output dropped
            throw new IllegalStateException("the results take " + minimalTotal + " bytes without outputs, over " + budget);
        }
        List<byte[]> body = new ArrayList<>(3 * n + 4);
        body.add(RESULTS_OPEN);
        long used = 0;
        long reserve = minimalTotal;
        int dropped = 0;
        int tooLarge = 0;
        for (int i = 0; i < n; i++) {
            byte[] separator = i > 0 ? COMMA : new byte[0];
            reserve -= minimalSize[i] + separator.length;
            body.add(separator);
            if (!(run.outcome(i) instanceof Outcome.Succeeded<PreparedOutput> succeeded)) {
                body.add(minimal[i]);
                used += minimal[i].length + separator.length;
            } else if (used + separator.length + full[i] + reserve <= budget) {
                body.add(head[i]);
                body.add(OUTPUT_FIELD);
                body.add(succeeded.value().escaped());
                body.add(tail[i]);
                used += full[i] + separator.length;
            } else {
                boolean neverFits = full[i] > budget;
                ResultRecord result = capped(ResultRecord.of(null, items.get(i), withoutValue(succeeded), null));
                byte[] error = EscapedJson.escape(ResultJson.withoutOutput(result.withError(droppedError(neverFits, full[i]))));
                body.add(error);
                used += error.length + separator.length;
                if (neverFits) {
                    tooLarge++;
                } else {
                    dropped++;
                }
            }
        }
        RunSummary s = run.summary();
        ObjectNode summary = mapper.createObjectNode();
        summary.put(Metric.ITEMS.key(), s.items());
        SummaryFigures.outcomes(summary, s, dropped + tooLarge);
        summary.put("outputDropped", dropped).put("outputTooLarge", tooLarge)
                .put(Metric.ENGINE_MS.key(), s.elapsed().toMillis()).put(Metric.TIME_LEFT_MS.key(), s.timeLeft().toMillis());
        body.add(SUMMARY_OPEN);
        body.add(EscapedJson.escape(summary.toString()));
        body.add(CLOSE);
        HttpAnswer answer = HttpAnswer.of(mapper, 200, JSON, body);
        log.setAll(summary);
        SummaryFigures.countByType(log, items, run::outcome, knownTypes);
        // after the engine: building the answer, and the garbage collection in that time
        log.put("answerMs", Duration.ofNanos(System.nanoTime() - built).toMillis()).put("gcMs", gcMillis.getAsLong() - gcBefore);
        return answer;
    }

    /** Most items one request runs synchronously. */
    int maxItems() {
        return maxItems;
    }

    /** Most bytes of a response, envelope included. */
    int maxResponseBytes() {
        return maxResponseBytes;
    }

    /** The time all the JVM's garbage collectors have spent collecting, in milliseconds. */
    static long gcMillis() {
        long total = 0;
        for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            total += Math.max(0, gc.getCollectionTime());
        }
        return total;
    }

    /** The outcome's status, error and timing, without its value (results are written from a ResultRecord). */
    @SuppressWarnings("unchecked")
    private static Outcome<JsonNode> withoutValue(Outcome<PreparedOutput> outcome) {
        if (outcome instanceof Outcome.Succeeded<PreparedOutput> succeeded) {
            return new Outcome.Succeeded<>(NullNode.getInstance(), succeeded.time());
        }
        return (Outcome<JsonNode>) (Outcome<?>) outcome;
    }

    /** The result with the client's text it echoes capped: its type, its error's type and message. */
    private static ResultRecord capped(ResultRecord r) {
        ResultRecord.Error e = r.error();
        return new ResultRecord(r.sourceMessageId(), r.itemId(), EscapedJson.cap(r.type(), MAX_TYPE_BYTES), r.status(),
                r.output(), e == null ? null : new ResultRecord.Error(EscapedJson.cap(e.type(), MAX_TYPE_BYTES),
                        EscapedJson.cap(e.message(), MAX_MESSAGE_BYTES), e.retryable()),
                r.attempt(), r.startedAt(), r.durationMs(), r.batchId(), r.itemIndex());
    }

    /**
     * The error of a succeeded item whose output is dropped: {@code OutputDropped} (retryable: it fits in a
     * smaller answer) or {@code OutputTooLarge} (it cannot fit in any).
     */
    private ResultRecord.Error droppedError(boolean neverFits, long outputBytes) {
        return neverFits
                ? new ResultRecord.Error("OutputTooLarge", "the item succeeded, but its result takes " + outputBytes
                        + " bytes, more than a response can carry (" + maxResponseBytes + " bytes in all)", false)
                : new ResultRecord.Error("OutputDropped", "the item succeeded, but its result (" + outputBytes
                        + " bytes) did not fit in this response with the others (" + maxResponseBytes
                        + " bytes in all); resubmit it in a smaller request, or with 'Prefer: respond-async' to get its"
                        + " result on the results queue", true);
    }

    /** The most either dropped error adds to a result in the answer, whatever the output's size. */
    private int droppedErrorBound() {
        var bare = new ResultRecord(null, null, null, ResultRecord.status(Outcome.Status.FAILED), null, null, null, null,
                null);
        int without = EscapedJson.escape(ResultJson.tail(bare)).length;
        return Math.max(EscapedJson.escape(ResultJson.tail(bare.withError(droppedError(false, Long.MAX_VALUE)))).length,
                EscapedJson.escape(ResultJson.tail(bare.withError(droppedError(true, Long.MAX_VALUE)))).length) - without;
    }
}

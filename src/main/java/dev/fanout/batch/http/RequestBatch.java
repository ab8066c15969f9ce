package dev.fanout.batch.http;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.Metric;
import dev.fanout.batch.QueuedBatch;
import dev.fanout.batch.RecordRules;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.WorkItem;

/**
 * The batch of one HTTP request: run now and answered with every result ({@link ResultsAnswer}, 200), or
 * queued to the work queue ({@link QueuedBatch}, 202).
 * <p>
 * A request with {@code Prefer: respond-async} (RFC 7240), or one over the synchronous limits, goes to the
 * work queue when the deployment has one: 202 with the batch id and each item's message id, or why it was not
 * queued. Without a work queue, a request over the synchronous limits is a problem (413).
 */
public final class RequestBatch {

    /**
     * @param apiTimeout       the API's integration timeout (HTTP APIs: at most 30 s; REST APIs: 29 s by default)
     * @param maxItems         most items one request runs synchronously
     * @param maxResponseBytes most bytes of a response, envelope included (Lambda's limit: {@link HttpAnswer#LAMBDA_RESPONSE_LIMIT})
     * @param maxQueuedItems   most items one request may queue
     */
    public record Settings(Duration apiTimeout, int maxItems, int maxResponseBytes, int maxQueuedItems) {
    }

    /** SQS's limit on a message: an item larger than this cannot be queued. */
    static final int MAX_QUEUED_ITEM_BYTES = SqsResultsSink.SQS_MAX_BYTES;

    private final WorkerPool pool;
    private final ItemFunctions handlers;
    private final ObjectMapper mapper;
    private final Settings settings;
    private final Optional<QueuedBatch> workQueue;
    private final ResultsAnswer results;

    public RequestBatch(WorkerPool pool, ItemFunctions handlers, ObjectMapper mapper, Settings settings,
            Optional<QueuedBatch> workQueue) {
        this.pool = pool;
        this.handlers = handlers;
        this.mapper = mapper;
        this.settings = settings;
        this.workQueue = workQueue;
        this.results = new ResultsAnswer(mapper, settings.maxItems(), settings.maxResponseBytes());
    }

    public Settings settings() {
        return settings;
    }

    /** The 200 answer's writer: {@link ResultsAnswer#measure} times the largest answer at start-up. */
    public ResultsAnswer results() {
        return results;
    }

    /** Builds the work queue's client path before the first request needs it; empty without a work queue. */
    public Optional<String> warmUp() {
        return workQueue.map(QueuedBatch::warmUp);
    }

    /**
     * The answer to a request's items, or a {@link Problem} thrown.
     *
     * @param nodes    each item's JSON as the request carried it (what queued mode sends; a null node for an item
     *                 that is not strict JSON, which is refused)
     * @param items    the same items, read
     * @param preferAsync the request prefers to be queued ({@code Prefer: respond-async})
     * @param deadline the request's deadline: the invocation's, or the API's limit if earlier
     * @param log      the answer's log event, which gets the batch's figures
     */
    public HttpAnswer answer(List<JsonNode> nodes, List<ParsedItem> items, boolean preferAsync, Deadline deadline,
            ObjectNode log) {
        String overLimit = results.overSynchronousLimits(items);
        log.put(Metric.ITEMS.key(), items.size());
        if (workQueue.isPresent() && (preferAsync || overLimit != null)) {
            return queue(nodes, items, preferAsync, deadline, log);
        }
        if (overLimit != null) {
            throw Problem.tooManyItems(overLimit + "; this deployment has no work queue for queued mode");
        }
        return run(items, deadline, log);
    }

    private HttpAnswer run(List<ParsedItem> items, Deadline deadline, ObjectNode log) {
        if (!pool.hasTimeBeforeCutoff(deadline)) {
            throw Problem.noTimeLeft("no time left to run the batch before the deadline ("
                    + Math.max(0, deadline.remaining().toMillis()) + " ms left); retry");
        }
        BatchResult<ResultsAnswer.PreparedOutput> run = pool.run(RecordRules.requestBatch(items),
                results.preparing(handlers.dispatcher()), deadline);
        return results.assemble(items, run, log, handlers.types());
    }

    private HttpAnswer queue(List<JsonNode> nodes, List<ParsedItem> items, boolean preferred, Deadline requestDeadline,
            ObjectNode log) {
        if (items.size() > settings.maxQueuedItems()) {
            throw Problem.tooManyItems("a request queues at most " + settings.maxQueuedItems() + " items, this one has "
                    + items.size());
        }
        List<String> refusals = new ArrayList<>(items.size());
        List<Optional<String>> groups = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            groups.add(items.get(i).group());
            refusals.add(refusal(items.get(i), nodes.get(i)));
        }
        Deadline deadline = requestDeadline.minus(pool.limits().cutoffMargin());
        QueuedBatch.Receipt receipt = workQueue.orElseThrow().queue(nodes, groups, refusals, deadline);
        int queued = receipt.queued();
        log.put("batchId", receipt.batchId()).put("queued", queued).put("notQueued", items.size() - queued)
                .put(Metric.SEND_REQUESTS.key(), receipt.requests()).put(Metric.SEND_RETRIES.key(), receipt.retries());
        if (queued == 0) {
            String first = receipt.entries().isEmpty() ? "the request has no items"
                    : "item 0: " + receipt.entries().getFirst().reason();
            throw Problem.notQueued("none of the " + items.size() + " items could be queued; " + first);
        }
        ObjectNode answer = mapper.createObjectNode().put("batchId", receipt.batchId()).put("queued", queued)
                .put("notQueued", items.size() - queued);
        var entries = answer.putArray("items");
        for (QueuedBatch.Entry entry : receipt.entries()) {
            ObjectNode node = entries.addObject().put("index", entry.index());
            if (entry.queued()) {
                node.put("messageId", entry.messageId());
            } else {
                node.put("reason", EscapedJson.cap(entry.reason(), ResultsAnswer.MAX_MESSAGE_BYTES))
                        .put("retryable", entry.retryable());
            }
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        if (preferred) {
            headers.put("Preference-Applied", "respond-async");
        }
        return HttpAnswer.of(mapper, 202, headers, List.of(EscapedJson.escape(answer.toString())));
    }

    /** Why an item is not queued at all: it is malformed, of an unknown type, or larger than a message. */
    private String refusal(ParsedItem item, JsonNode node) {
        return switch (item) {
            case ParsedItem.Malformed malformed -> "rejected: " + malformed.reason();
            case ParsedItem.Valid(WorkItem work) when !handlers.types().contains(work.type()) ->
                "rejected: unknown item type '" + EscapedJson.cap(work.type(), ResultsAnswer.MAX_TYPE_BYTES)
                        + "' (known types: " + String.join(", ", handlers.types()) + ")";
            case ParsedItem.Valid valid when node.toString().getBytes(StandardCharsets.UTF_8).length > MAX_QUEUED_ITEM_BYTES ->
                "rejected: the item is larger than an SQS message (" + MAX_QUEUED_ITEM_BYTES + " bytes)";
            case ParsedItem.Valid valid -> null;
        };
    }
}

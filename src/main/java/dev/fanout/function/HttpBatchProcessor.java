package dev.fanout.function;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.ItemHandler;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.RunSummary;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.ResultRecord;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkHandlers;
import dev.fanout.work.WorkItem;

/**
 * One HTTP request with a batch, through API Gateway (payload format 1.0 or 2.0):
 *
 * <pre>
 * POST {"items": [{"id": "a", "type": "digest", "payload": {"data": "x"}}, ...]}
 * 200  {"results": [{"itemId": "a", "status": "succeeded", "output": {...}, ...}, ...], "summary": {...}}
 * 202  {"batchId": "...", "queued": 3, "notQueued": 0, "items": [{"index": 0, "messageId": "..."}, ...]}
 * 4xx/5xx  application/problem+json (RFC 9457)
 * </pre>
 *
 * <h2>Synchronous mode</h2>
 * Results come back in input order, one per item; a malformed item is rejected in its own result and
 * never fails the others. The deadline is the earlier of the invocation's and the API's own limit
 * counted from the request's arrival.
 * <p>
 * The answer never exceeds Lambda's response limit, counted in the bytes written. Each output is
 * serialised once, on its item's thread as it finishes, into the escaped form it takes in the answer;
 * building the answer is then a copy of at most the limit, which the cut-off margin is sized for. Client
 * text echoed in results (a type, a reason that quotes it) is capped; an item's id is echoed whole,
 * and a request whose ids could not fit in an answer is over the synchronous limits. All outputs are
 * kept when the whole answer fits; otherwise outputs are dropped, from the first that does not fit, and
 * those items fail with {@code OutputDropped} (retryable: resubmit them) or, if an output could not fit
 * even alone, {@code OutputTooLarge} (not retryable).
 *
 * <h2>Queued mode</h2>
 * A request with {@code Prefer: respond-async} (RFC 7240), or one over the synchronous limits, goes to
 * the work queue when the deployment has one ({@link QueuedBatch}): 202 with the batch id and each item's
 * message id, or why it was not queued.
 *
 * <h2>Strict input</h2>
 * POST only (405), a JSON media type (415), a body that is UTF-8 (base64 bodies too) and strict JSON: no
 * duplicate keys, nothing after the document, no top-level field but {@code items} (400). Every answer
 * logs one JSON line.
 */
public final class HttpBatchProcessor {

    private static final Logger LOG = Logger.getLogger(HttpBatchProcessor.class);

    /**
     * @param apiTimeout       the API's integration timeout (HTTP APIs: at most 30 s; REST APIs: 29 s by default)
     * @param maxItems         most items one request runs synchronously
     * @param maxResponseBytes most bytes of a response, envelope included (Lambda's limit: {@link HttpAnswer#LAMBDA_RESPONSE_LIMIT})
     * @param maxQueuedItems   most items one request may queue
     */
    public record Settings(Duration apiTimeout, int maxItems, int maxResponseBytes, int maxQueuedItems) {
    }

    /** Most bytes a result's {@code type}, error type and error message take in the answer. */
    static final int MAX_TYPE_BYTES = 200;
    static final int MAX_MESSAGE_BYTES = 600;
    /** Room kept for the summary, which is written after the results are chosen. */
    static final int SUMMARY_RESERVE = 1_024;
    /** SQS's limit on a message: an item larger than this cannot be queued. */
    static final int MAX_QUEUED_ITEM_BYTES = 1_048_576;

    private static final Map<String, String> JSON = Map.of("Content-Type", "application/json");
    private static final byte[] RESULTS_OPEN = EscapedJson.escape("{\"results\":[");
    private static final byte[] COMMA = EscapedJson.escape(",");
    private static final byte[] SUMMARY_OPEN = EscapedJson.escape("],\"summary\":");
    private static final byte[] CLOSE = EscapedJson.escape("}");
    private static final byte[] OUTPUT_FIELD = EscapedJson.escape(",\"output\":");
    private static final int SUCCEEDED_BYTES = "succeeded".length();
    private static final int FAILED_BYTES = "failed".length();
    /**
     * The most a result takes in the answer without its id and output: the longest status, error type,
     * message and timing. Checked up front, so that every item's result fits even with its output dropped.
     */
    static final int MAX_RESULT_BYTES_WITHOUT_ID = EscapedJson.escape("{\"itemId\":\"\",\"type\":\"\",\"status\":\"not_started\","
            + "\"error\":{\"type\":\"\",\"message\":\"\",\"retryable\":false},\"startedAt\":\"+1000000000-12-31T23:59:59.999999999Z\","
            + "\"durationMs\":-9223372036854775808},").length + 2 * MAX_TYPE_BYTES + MAX_MESSAGE_BYTES;

    private final WorkerPool pool;
    private final WorkHandlers handlers;
    private final ItemParser parser;
    private final ObjectMapper mapper;
    private final Settings settings;
    private final Optional<QueuedBatch> workQueue;
    private final int droppedErrorBound;

    public HttpBatchProcessor(WorkerPool pool, WorkHandlers handlers, ItemParser parser, ObjectMapper mapper,
            Settings settings, Optional<QueuedBatch> workQueue) {
        this.pool = pool;
        this.handlers = handlers;
        this.parser = parser;
        this.mapper = mapper;
        this.settings = settings;
        this.workQueue = workQueue;
        this.droppedErrorBound = droppedErrorBound();
    }

    public Settings settings() {
        return settings;
    }

    /** Builds the work queue's client path before the first request needs it; empty without a work queue. */
    public Optional<String> warmUp() {
        return workQueue.map(QueuedBatch::warmUp);
    }

    /** One invocation: the proxy event's bytes in, the proxy response out. Never throws. */
    public HttpAnswer process(byte[] event, Deadline invocationDeadline) {
        ObjectNode log = mapper.createObjectNode().put("event", "fanout.http");
        HttpAnswer answer = answer(event, invocationDeadline, log);
        // one summary per answer, whatever its status: an EMF event (answers2xx/4xx/5xx come from the status)
        InvocationMetrics.log(log.put(InvocationMetrics.STATUS, answer.status()), "http");
        return answer;
    }

    /**
     * {@link #process} without its summary line: for the priming runs ({@link SnapStartHooks}, {@link StartPriming}),
     * which are not invocations and must not count as answers in the metrics.
     */
    HttpAnswer answer(byte[] event, Deadline invocationDeadline, ObjectNode log) {
        long start = System.nanoTime();
        HttpAnswer answer;
        try {
            ApiGatewayRequest request = ApiGatewayRequest.read(readEvent(event));
            log.put("format", request.format()).put("apiRequestId", request.requestId());
            answer = handle(request, invocationDeadline, log);
        } catch (Problem problem) {
            answer = problem(problem, log);
        } catch (RuntimeException | Error e) {
            LOG.error("the HTTP entry point failed", e);
            answer = problem(Problem.internal("the function failed (" + e.getClass().getSimpleName()
                    + "); the request may be retried"), log);
        }
        log.put("bytes", answer.size()).put("elapsedMs", Duration.ofNanos(System.nanoTime() - start).toMillis());
        return answer;
    }

    private JsonNode readEvent(byte[] event) {
        try {
            return mapper.readTree(event);
        } catch (IOException e) {
            throw Problem.notAProxyEvent("the event is not JSON");
        }
    }

    private HttpAnswer handle(ApiGatewayRequest request, Deadline invocationDeadline, ObjectNode log) {
        if (!"POST".equals(request.method())) {
            throw Problem.methodNotAllowed(request.method());
        }
        checkContentType(request.header("content-type"));
        List<JsonNode> nodes = items(bodyText(request));
        List<ParsedItem> items = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            items.add(parser.read(nodes.get(i), Integer.toString(i), Optional.empty()));
        }
        boolean async = prefersAsync(request.header("prefer"));
        String overLimit = overSynchronousLimits(items);
        log.put("items", items.size());
        if (workQueue.isPresent() && (async || overLimit != null)) {
            return queue(nodes, items, async, request, invocationDeadline, log);
        }
        if (overLimit != null) {
            throw Problem.tooManyItems(overLimit + "; this deployment has no work queue for queued mode");
        }
        return run(items, deadline(request, invocationDeadline), log);
    }

    // ------------------------------------------------------------------ input

    private static void checkContentType(String contentType) {
        String mediaType = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!mediaType.equals("application/json") && !(mediaType.startsWith("application/") && mediaType.endsWith("+json"))) {
            throw Problem.unsupportedMediaType(contentType == null ? null : EscapedJson.cap(contentType, 128));
        }
        for (String parameter : contentType.split(";")) {
            String[] nameValue = parameter.split("=", 2);
            if (nameValue.length == 2 && nameValue[0].strip().equalsIgnoreCase("charset")
                    && !nameValue[1].strip().replace("\"", "").equalsIgnoreCase("utf-8")) {
                throw Problem.unsupportedMediaType(EscapedJson.cap(contentType, 128) + " (JSON is UTF-8)");
            }
        }
    }

    /** The body as text: base64 decoded, and only if it is well-formed UTF-8 (or, as given, valid Unicode). */
    private static String bodyText(ApiGatewayRequest request) {
        String body = request.body();
        if (body == null || body.isEmpty()) {
            throw Problem.invalidBatch("the body is empty: send {\"items\": [...]}");
        }
        if (!request.base64()) {
            for (int i = 0; i < body.length(); i++) {
                char c = body.charAt(i);
                if (Character.isHighSurrogate(c) && i + 1 < body.length() && Character.isLowSurrogate(body.charAt(i + 1))) {
                    i++;
                } else if (Character.isSurrogate(c)) {
                    throw Problem.invalidBody("the body has a lone UTF-16 surrogate at character " + i + ": it is not valid Unicode text");
                }
            }
            return body;
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw Problem.invalidBody("the body is not valid base64: " + e.getMessage());
        }
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            CharBuffer text = utf8.decode(in);
            return text.toString();
        } catch (MalformedInputException e) {
            throw Problem.invalidBody("the body is not valid UTF-8: " + e.getInputLength() + " malformed byte(s) at byte "
                    + in.position());
        } catch (CharacterCodingException e) {
            throw Problem.invalidBody("the body is not valid UTF-8");
        }
    }

    /**
     * The elements of {@code items}, read strictly: an object with the one field {@code items}, an array;
     * no duplicate key anywhere, nothing after the object. An error inside an element names its index.
     */
    private List<JsonNode> items(String body) {
        List<JsonNode> items = new ArrayList<>();
        boolean seenItems = false;
        Integer index = null;
        try (JsonParser json = mapper.getFactory().createParser(body)) {
            json.enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION.mappedFeature());
            if (json.nextToken() != JsonToken.START_OBJECT) {
                throw Problem.invalidBatch("the body must be a JSON object with an array 'items'");
            }
            for (JsonToken token = json.nextToken(); token != JsonToken.END_OBJECT; token = json.nextToken()) {
                String field = json.currentName();
                if (!field.equals("items")) {
                    throw Problem.invalidBatch("unknown field '" + EscapedJson.cap(field, 128)
                            + "' (a batch has the one field 'items')");
                }
                seenItems = true;
                if (json.nextToken() != JsonToken.START_ARRAY) {
                    throw Problem.invalidBatch("field 'items' must be an array of items");
                }
                for (index = 0; json.nextToken() != JsonToken.END_ARRAY; index++) {
                    JsonNode item = mapper.readTree(json);
                    items.add(item == null ? NullNode.getInstance() : item);
                }
                index = null;
            }
            if (json.nextToken() != null) {
                throw Problem.invalidJson("the body goes on after its JSON object, at " + where(json), null);
            }
        } catch (JsonParseException e) {
            throw Problem.invalidJson("the body is not valid JSON: " + e.getOriginalMessage() + " at "
                    + where(e), index);
        } catch (JsonProcessingException e) {
            throw Problem.invalidJson("the body is not valid JSON: " + e.getOriginalMessage(), index);
        } catch (IOException e) {
            throw Problem.invalidJson("the body cannot be read: " + e.getMessage(), index);
        }
        if (!seenItems) {
            throw Problem.invalidBatch("field 'items' must be an array of items");
        }
        return items;
    }

    private static String where(JsonParser json) {
        return "line " + json.currentLocation().getLineNr() + ", column " + json.currentLocation().getColumnNr();
    }

    private static String where(JsonParseException e) {
        return "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    }

    /** RFC 7240: {@code Prefer: respond-async}, among other preferences, with or without parameters. */
    static boolean prefersAsync(String prefer) {
        if (prefer == null) {
            return false;
        }
        for (String preference : prefer.split(",")) {
            String name = preference.split("[;=]", 2)[0].strip();
            if (name.equalsIgnoreCase("respond-async")) {
                return true;
            }
        }
        return false;
    }

    /** Why the request cannot be answered synchronously, or null if it can. */
    private String overSynchronousLimits(List<ParsedItem> items) {
        if (items.size() > settings.maxItems()) {
            return "a request runs at most " + settings.maxItems() + " items synchronously, this one has " + items.size();
        }
        long worst = fixedAnswerBytes(200, JSON);
        for (ParsedItem item : items) {
            worst += EscapedJson.answerSize(item.id()) + MAX_RESULT_BYTES_WITHOUT_ID;
        }
        if (worst > settings.maxResponseBytes()) {
            return "the items' results could take " + worst + " bytes, more than a response can carry ("
                    + settings.maxResponseBytes() + "): use shorter ids or fewer items";
        }
        return null;
    }

    private long fixedAnswerBytes(int status, Map<String, String> headers) {
        return HttpAnswer.envelopeSize(mapper, status, headers) + RESULTS_OPEN.length + SUMMARY_OPEN.length
                + CLOSE.length + SUMMARY_RESERVE;
    }

    /** The invocation's deadline, or the API's own limit counted from the request's arrival if earlier. */
    Deadline deadline(ApiGatewayRequest request, Deadline invocationDeadline) {
        long arrivedAt = request.arrivedAtMillis();
        if (arrivedAt <= 0) {
            return invocationDeadline;
        }
        Duration sinceArrival = Duration.ofMillis(Math.max(0, System.currentTimeMillis() - arrivedAt));
        return invocationDeadline.atMost(settings.apiTimeout().minus(sinceArrival));
    }

    // ------------------------------------------------------------------ synchronous mode

    /** An output serialised once, on its item's thread, into the form it takes in the answer. */
    record PreparedOutput(byte[] escaped) {
    }

    private ItemHandler<ParsedItem, PreparedOutput> preparing(ItemHandler<ParsedItem, JsonNode> handler) {
        return context -> prepare(handler.handle(context));
    }

    private PreparedOutput prepare(JsonNode output) {
        try {
            return new PreparedOutput(EscapedJson.escape(mapper.writeValueAsString(output)));
        } catch (JsonProcessingException e) {
            throw new NonRetryableException("the output could not be written as JSON: " + e.getOriginalMessage(), e);
        }
    }

    private HttpAnswer run(List<ParsedItem> items, Deadline deadline, ObjectNode log) {
        if (!pool.hasTimeBeforeCutoff(deadline)) {
            throw Problem.noTimeLeft("no time left to run the batch before the deadline ("
                    + Math.max(0, deadline.remaining().toMillis()) + " ms left); retry");
        }
        BatchResult<PreparedOutput> run = pool.run(Batch.fifo(items, item -> item.group().orElse(null)),
                preparing(handlers.dispatcher()), deadline);
        return assemble(items, run, log);
    }

    /**
     * The answer to a run: results in input order within the response limit, and the summary. After the
     * engine, so its time comes out of the cut-off margin; {@link #measureAnswer()} times it.
     */
    HttpAnswer assemble(List<ParsedItem> items, BatchResult<PreparedOutput> run, ObjectNode log) {
        long built = System.nanoTime();
        long gcBefore = gcMillis();
        int n = items.size();
        byte[][] minimal = new byte[n][];
        long[] minimalSize = new long[n];
        byte[][] head = new byte[n][];
        byte[][] tail = new byte[n][];
        long[] full = new long[n];
        long minimalTotal = 0;
        for (int i = 0; i < n; i++) {
            Outcome<PreparedOutput> outcome = run.outcome(i);
            ResultRecord result = ResultRecord.of(null, items.get(i), withoutValue(outcome), null);
            if (outcome instanceof Outcome.Succeeded<PreparedOutput> succeeded) {
                head[i] = EscapedJson.escape(resultHead(result, "succeeded"));
                tail[i] = EscapedJson.escape(resultTail(result, false));
                full[i] = head[i].length + OUTPUT_FIELD.length + succeeded.value().escaped().length + tail[i].length;
                // the result with its output dropped: written only if it comes to that, its size bounded now
                minimalSize[i] = head[i].length - SUCCEEDED_BYTES + FAILED_BYTES + droppedErrorBound + tail[i].length;
            } else {
                minimal[i] = EscapedJson.escape(resultHead(result, result.status()) + resultTail(result, true));
                minimalSize[i] = minimal[i].length;
                full[i] = minimal[i].length;
            }
            minimalTotal += minimalSize[i] + (i > 0 ? COMMA.length : 0);
        }
        long budget = settings.maxResponseBytes() - fixedAnswerBytes(200, JSON);
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
                ResultRecord result = ResultRecord.of(null, items.get(i), withoutValue(succeeded), null);
                byte[] error = EscapedJson.escape(withoutOutput(result, neverFits, full[i]));
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
        summary.put("items", s.items()).put("succeeded", s.succeeded() - dropped - tooLarge)
                .put("failed", s.failed() + dropped + tooLarge).put("rejected", s.rejected()).put("timedOut", s.timedOut())
                .put("notStarted", s.notStarted()).put("peakConcurrency", s.peakConcurrency())
                .put("outputDropped", dropped).put("outputTooLarge", tooLarge)
                .put("elapsedMs", s.elapsed().toMillis()).put("timeLeftMs", s.timeLeft().toMillis());
        body.add(SUMMARY_OPEN);
        body.add(EscapedJson.escape(summary.toString()));
        body.add(CLOSE);
        HttpAnswer answer = HttpAnswer.of(mapper, 200, JSON, body);
        log.setAll(summary);
        InvocationMetrics.countByType(log, items, run::outcome, handlers.types());
        // after the engine: building the answer, and the garbage collection in that time
        log.put("answerMs", Duration.ofNanos(System.nanoTime() - built).toMillis()).put("gcMs", gcMillis() - gcBefore);
        return answer;
    }

    /**
     * How long assembling, writing and handing over the largest answer takes here: 1,000 results whose
     * outputs add up to twice the limit (so that half are kept and half dropped), written as the runtime
     * takes them and sent through a loopback socket as the runtime posts them; the slowest of three runs,
     * the first one cold as the first invocation is. The benchmark behind the HTTP cut-off margin's default
     * ({@link AnswerTiming}, {@code AnswerTimeFigures}) runs it in fresh JVMs; the function itself does not, as
     * it would cost every cold start the time it measures.
     */
    public Duration measureAnswer() {
        int n = settings.maxItems();
        List<ParsedItem> items = new ArrayList<>(n);
        List<Outcome<PreparedOutput>> outcomes = new ArrayList<>(n);
        var timing = new Outcome.Timing(Instant.now(), Duration.ofMillis(1));
        String output = "{\"body\":\"" + "x".repeat(Math.max(1, 2 * settings.maxResponseBytes() / n - 12)) + "\"}";
        for (int i = 0; i < n; i++) {
            items.add(new ParsedItem.Valid(new WorkItem(Integer.toString(i), "http", Optional.empty(), NullNode.getInstance())));
            outcomes.add(new Outcome.Succeeded<>(new PreparedOutput(EscapedJson.escape(output)), timing));
        }
        var summary = new RunSummary(n, n, 0, 0, 0, 0, n, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO,
                Duration.ZERO, 0);
        var run = new BatchResult<>(outcomes, summary);
        long slowest = 0;
        for (int attempt = 0; attempt < 3; attempt++) {
            long start = System.nanoTime();
            HttpAnswer answer = assemble(items, run, mapper.createObjectNode());
            try {
                // as the runtime takes it: into a growing buffer, then posted to the Runtime API on loopback
                var out = new ByteArrayOutputStream();
                answer.writeTo(out);
                AnswerTiming.sendThroughLoopback(out.toByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            slowest = Math.max(slowest, System.nanoTime() - start);
        }
        return Duration.ofNanos(slowest);
    }

    private static long gcMillis() {
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

    /** {@code {"itemId":...,"type":...,"status":...}} without its closing brace, in the order ResultRecord has. */
    private static String resultHead(ResultRecord result, String status) {
        var text = new StringBuilder("{\"itemId\":").append(EscapedJson.quote(result.itemId()));
        if (result.type() != null) {
            text.append(",\"type\":").append(EscapedJson.quote(EscapedJson.cap(result.type(), MAX_TYPE_BYTES)));
        }
        return text.append(",\"status\":").append(EscapedJson.quote(status)).toString();
    }

    /** The error (if {@code withError}), the timing, and the closing brace. */
    private static String resultTail(ResultRecord result, boolean withError) {
        var text = new StringBuilder();
        if (withError && result.error() != null) {
            text.append(errorPart(result.error()));
        }
        if (result.startedAt() != null) {
            text.append(",\"startedAt\":").append(EscapedJson.quote(result.startedAt()));
        }
        if (result.durationMs() != null) {
            text.append(",\"durationMs\":").append(result.durationMs());
        }
        return text.append('}').toString();
    }

    private static String errorPart(ResultRecord.Error error) {
        return ",\"error\":{\"type\":" + EscapedJson.quote(EscapedJson.cap(error.type(), MAX_TYPE_BYTES))
                + ",\"message\":" + EscapedJson.quote(EscapedJson.cap(error.message(), MAX_MESSAGE_BYTES))
                + ",\"retryable\":" + error.retryable() + '}';
    }

    /**
     * The error of a succeeded item whose output is dropped: {@code OutputDropped} (retryable: it fits in a
     * smaller answer) or {@code OutputTooLarge} (it cannot fit in any).
     */
    private ResultRecord.Error droppedError(boolean neverFits, long outputBytes) {
        return neverFits
                ? new ResultRecord.Error("OutputTooLarge", "the item succeeded, but its result takes " + outputBytes
                        + " bytes, more than a response can carry (" + settings.maxResponseBytes() + " bytes in all)", false)
                : new ResultRecord.Error("OutputDropped", "the item succeeded, but its result (" + outputBytes
                        + " bytes) did not fit in this response with the others (" + settings.maxResponseBytes()
                        + " bytes in all); resubmit it in a smaller request, or with 'Prefer: respond-async' to get its"
                        + " result on the results queue", true);
    }

    /** The most either dropped error takes in the answer, whatever the output's size. */
    private int droppedErrorBound() {
        return Math.max(EscapedJson.escape(errorPart(droppedError(false, Long.MAX_VALUE))).length,
                EscapedJson.escape(errorPart(droppedError(true, Long.MAX_VALUE))).length);
    }

    /** A succeeded item's result with its output dropped. */
    private String withoutOutput(ResultRecord result, boolean neverFits, long outputBytes) {
        return resultHead(result, ResultRecord.status(Outcome.Status.FAILED)) + errorPart(droppedError(neverFits, outputBytes))
                + resultTail(result, false);
    }

    // ------------------------------------------------------------------ queued mode

    private HttpAnswer queue(List<JsonNode> nodes, List<ParsedItem> items, boolean preferred,
            ApiGatewayRequest request, Deadline invocationDeadline, ObjectNode log) {
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
        Deadline deadline = deadline(request, invocationDeadline).minus(pool.limits().cutoffMargin());
        QueuedBatch.Receipt receipt = workQueue.orElseThrow().queue(nodes, groups, refusals, deadline);
        int queued = receipt.queued();
        log.put("batchId", receipt.batchId()).put("queued", queued).put("notQueued", items.size() - queued)
                .put("sendRequests", receipt.requests()).put("sendRetries", receipt.retries());
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
                node.put("reason", EscapedJson.cap(entry.reason(), MAX_MESSAGE_BYTES)).put("retryable", entry.retryable());
            }
        }
        Map<String, String> headers = new LinkedHashMap<>(JSON);
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
                "rejected: unknown item type '" + EscapedJson.cap(work.type(), MAX_TYPE_BYTES) + "' (known types: "
                        + String.join(", ", handlers.types()) + ")";
            case ParsedItem.Valid valid when node.toString().getBytes(StandardCharsets.UTF_8).length > MAX_QUEUED_ITEM_BYTES ->
                "rejected: the item is larger than an SQS message (" + MAX_QUEUED_ITEM_BYTES + " bytes)";
            case ParsedItem.Valid valid -> null;
        };
    }

    // ------------------------------------------------------------------ problems

    private HttpAnswer problem(Problem problem, ObjectNode log) {
        ObjectNode body = mapper.createObjectNode().put("type", problem.type()).put("title", problem.title)
                .put("status", problem.status).put("detail", problem.detail);
        if (problem.index != null) {
            body.put("index", problem.index);
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/problem+json");
        headers.putAll(new TreeMap<>(problem.headers));
        log.put("problem", problem.kind).put("detail", problem.detail);
        if (problem.index != null) {
            log.put("index", problem.index);
        }
        return HttpAnswer.of(mapper, problem.status, headers, List.of(EscapedJson.escape(body.toString())));
    }
}

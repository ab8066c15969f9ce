package dev.fanout.function;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.jboss.logging.Logger;

import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.RunSummary;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.FallbackResult;
import dev.fanout.fanin.ResultRecord;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkHandlers;

/**
 * One HTTP request with a batch, through API Gateway (HTTP API, payload format 2.0):
 *
 * <pre>
 * POST {"items": [{"id": "a", "type": "digest", "payload": {"data": "x"}}, ...]}
 * 200  {"results": [{"itemId": "a", "status": "succeeded", "output": {...}, ...}, ...], "summary": {...}}
 * </pre>
 *
 * Results come back in input order, one per item; a malformed item is rejected in its own result and
 * never fails the others. A request that is not a batch at all gets a 4xx with a reason. The deadline is
 * the earlier of the invocation's and the API's own limit counted from the request's arrival.
 */
public final class HttpBatchProcessor {

    private static final Logger LOG = Logger.getLogger(HttpBatchProcessor.class);

    /**
     * @param apiTimeout       the API's integration timeout (HTTP APIs: at most 30 s)
     * @param maxItems         most items one request may carry
     * @param maxResponseBytes room for the results in a response (Lambda's limit: 6 MB for the whole payload)
     */
    public record Settings(Duration apiTimeout, int maxItems, int maxResponseBytes) {
        /**
         * Lambda's synchronous response limit is 6 MB. The results travel as a string inside the proxy
         * response, where escaping can double them at worst, so they get a little under half of it.
         */
        public static final int LAMBDA_RESPONSE_BUDGET = 2_900_000;
    }

    private final WorkerPool pool;
    private final WorkHandlers handlers;
    private final ItemParser parser;
    private final ObjectMapper mapper;
    private final Settings settings;

    public HttpBatchProcessor(WorkerPool pool, WorkHandlers handlers, ItemParser parser, ObjectMapper mapper,
            Settings settings) {
        this.pool = pool;
        this.handlers = handlers;
        this.parser = parser;
        this.mapper = mapper;
        this.settings = settings;
    }

    /** Answers the request and logs one summary (an EMF event) per answer, whatever its status. */
    public APIGatewayV2HTTPResponse process(APIGatewayV2HTTPEvent request, Deadline invocationDeadline) {
        ObjectNode summary = mapper.createObjectNode().put("event", "fanout.http");
        APIGatewayV2HTTPResponse response;
        try {
            response = answer(request, invocationDeadline, summary);
        } catch (RuntimeException e) {
            // a clean problem answer, not a Lambda error that API Gateway turns into a bare 502
            LOG.error("the batch's response could not be built", e);
            response = problem(500, "the response could not be built (" + e.getClass().getSimpleName()
                    + "); the function's log has the cause");
        }
        InvocationMetrics.log(summary.put(InvocationMetrics.STATUS, response.getStatusCode()), "http");
        return response;
    }

    /** A 5xx problem whose body is written by hand: it cannot fail as the mapper just did. */
    static APIGatewayV2HTTPResponse problem(int status, String message) {
        return APIGatewayV2HTTPResponse.builder().withStatusCode(status)
                .withHeaders(Map.of("Content-Type", "application/json"))
                .withBody("{\"error\":" + FallbackResult.quote(message) + "}").withIsBase64Encoded(false).build();
    }

    private APIGatewayV2HTTPResponse answer(APIGatewayV2HTTPEvent request, Deadline invocationDeadline,
            ObjectNode summaryLog) {
        String method = method(request);
        if (!"POST".equals(method)) {
            return error(405, "use POST with a JSON body {\"items\": [...]}, not " + method, Map.of("Allow", "POST"));
        }
        JsonNode body;
        try {
            body = mapper.readTree(bodyOf(request));
        } catch (JsonProcessingException e) {
            return error(400, "the body is not valid JSON: " + e.getOriginalMessage(), Map.of());
        } catch (IllegalArgumentException e) {
            return error(400, "the body is not valid base64: " + e.getMessage(), Map.of());
        }
        if (body == null || body.isMissingNode() || !body.isObject()) {
            return error(400, "the body must be a JSON object with an array 'items'", Map.of());
        }
        JsonNode array = body.get("items");
        if (array == null || !array.isArray()) {
            return error(400, "field 'items' must be an array of items", Map.of());
        }
        if (array.size() > settings.maxItems()) {
            return error(413, "a request carries at most " + settings.maxItems() + " items, this one has "
                    + array.size(), Map.of());
        }
        List<ParsedItem> items = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            items.add(parser.read(array.get(i), Integer.toString(i), Optional.empty()));
        }
        Deadline deadline = deadline(request, invocationDeadline);
        BatchResult<JsonNode> run;
        try {
            run = pool.run(Batch.fifo(items, item -> item.group().orElse(null)), handlers.dispatcher(), deadline);
        } catch (IllegalArgumentException noTimeBeforeCutoff) {
            return error(503, "no time left to run the batch before the deadline; retry", Map.of("Retry-After", "1"));
        }

        ObjectNode response = mapper.createObjectNode();
        ArrayNode results = response.putArray("results");
        // Lambda refuses a response over its payload limit, and with it every result: outputs that do not fit
        // are dropped for an error, and room is kept for the (small) error results of the items after them
        int n = items.size();
        JsonNode[] whole = new JsonNode[n];
        JsonNode[] small = new JsonNode[n];
        long[] smallSize = new long[n];
        long reserve = 0;
        for (int i = 0; i < n; i++) {
            ResultRecord result = ResultRecord.of(null, items.get(i), run.outcome(i), null);
            whole[i] = tree(result);
            small[i] = result.output() == null ? whole[i] : tree(result.withError("OutputTooLarge",
                    "the response would exceed " + settings.maxResponseBytes() + " bytes; send fewer items per request"));
            smallSize[i] = utf8Size(small[i]);
            reserve += smallSize[i];
        }
        long used = 0;
        int tooLarge = 0;
        for (int i = 0; i < n; i++) {
            reserve -= smallSize[i];
            long wholeSize = whole[i] == small[i] ? smallSize[i] : utf8Size(whole[i]);
            boolean fits = used + wholeSize + reserve <= settings.maxResponseBytes();
            results.add(fits ? whole[i] : small[i]);
            used += fits ? wholeSize : smallSize[i];
            tooLarge += fits ? 0 : 1;
        }
        RunSummary s = run.summary();
        ObjectNode summary = response.putObject("summary");
        summary.put("items", s.items()).put("succeeded", s.succeeded())
                .put("failed", s.failed()).put("rejected", s.rejected()).put("timedOut", s.timedOut())
                .put("notStarted", s.notStarted()).put("peakConcurrency", s.peakConcurrency())
                .put("outputTooLarge", tooLarge)
                .put("elapsedMs", s.elapsed().toMillis()).put("timeLeftMs", s.timeLeft().toMillis());
        InvocationMetrics.countByType(summaryLog.setAll(summary), items, run::outcome, handlers.types());
        return respond(200, response, Map.of());
    }

    /** The result as JSON; a result Jackson cannot write becomes an error result written by hand. */
    private JsonNode tree(ResultRecord result) {
        try {
            return mapper.valueToTree(result);
        } catch (RuntimeException e) {
            String fallback = FallbackResult.of(result, "OutputNotWritable", "the result could not be written as JSON: " + e);
            try {
                return mapper.readTree(fallback);
            } catch (JsonProcessingException impossible) {
                throw new IllegalStateException("FallbackResult wrote invalid JSON: " + fallback, impossible);
            }
        }
    }

    private long utf8Size(JsonNode json) {
        try {
            return mapper.writeValueAsBytes(json).length;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree could not be written", e);
        }
    }

    /** The invocation's deadline, or the API's own limit counted from the request's arrival if earlier. */
    Deadline deadline(APIGatewayV2HTTPEvent request, Deadline invocationDeadline) {
        long arrivedAt = request.getRequestContext() == null ? 0 : request.getRequestContext().getTimeEpoch();
        if (arrivedAt <= 0) {
            return invocationDeadline;
        }
        Duration sinceArrival = Duration.ofMillis(Math.max(0, System.currentTimeMillis() - arrivedAt));
        return invocationDeadline.atMost(settings.apiTimeout().minus(sinceArrival));
    }

    private static String method(APIGatewayV2HTTPEvent request) {
        var context = request.getRequestContext();
        String method = context == null || context.getHttp() == null ? null : context.getHttp().getMethod();
        return method == null ? "an unknown method" : method;
    }

    private static String bodyOf(APIGatewayV2HTTPEvent request) {
        String body = request.getBody() == null ? "" : request.getBody();
        return request.getIsBase64Encoded() ? new String(Base64.getDecoder().decode(body), StandardCharsets.UTF_8) : body;
    }

    private APIGatewayV2HTTPResponse error(int status, String message, Map<String, String> headers) {
        return respond(status, mapper.createObjectNode().put("error", message), headers);
    }

    private APIGatewayV2HTTPResponse respond(int status, JsonNode body, Map<String, String> extraHeaders) {
        var headers = new java.util.HashMap<String, String>(extraHeaders);
        headers.put("Content-Type", "application/json");
        return APIGatewayV2HTTPResponse.builder().withStatusCode(status).withHeaders(headers)
                .withBody(body.toString()).withIsBase64Encoded(false).build();
    }
}

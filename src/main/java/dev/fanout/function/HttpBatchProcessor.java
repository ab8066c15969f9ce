package dev.fanout.function;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.Metric;
import dev.fanout.batch.QueuedBatch;
import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.batch.http.Problem;
import dev.fanout.batch.http.RequestBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.WorkerPool;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.limits.ServiceLimits;

/**
 * The API Gateway proxy event's side of a {@link RequestBatch} (payload format 1.0 or 2.0):
 *
 * <pre>
 * POST {"items": [{"id": "a", "type": "digest", "payload": {"data": "x"}}, ...]}
 * 200  {"results": [{"itemId": "a", "status": "succeeded", "output": {...}, ...}, ...], "summary": {...}}
 * 202  {"batchId": "...", "queued": 3, "notQueued": 0, "items": [{"index": 0, "messageId": "..."}, ...]}
 * 4xx/5xx  application/problem+json (RFC 9457)
 * </pre>
 *
 * It reads the event and its batch ({@link ApiGatewayRequest}, {@link BatchRequest}), learns the deadline (the
 * earlier of the invocation's and the API's own limit counted from the request's arrival), hands the items to
 * the batch, and answers a {@link Problem} wherever one is thrown. Every answer logs one JSON line.
 */
public final class HttpBatchProcessor {

    private static final Logger LOG = Logger.getLogger(HttpBatchProcessor.class);

    private final RequestBatch batch;
    private final ServiceLimits limits;
    private final ItemParser parser;
    private final ObjectMapper mapper;

    public HttpBatchProcessor(WorkerPool pool, ItemFunctions handlers, ItemParser parser, ObjectMapper mapper,
            RequestBatch.Settings settings, Optional<QueuedBatch> workQueue) {
        this.batch = new RequestBatch(pool, handlers, mapper, settings, workQueue);
        this.limits = handlers.serviceLimits();
        this.parser = parser;
        this.mapper = mapper;
    }

    public RequestBatch.Settings settings() {
        return batch.settings();
    }

    /** Builds the work queue's client path before the first request needs it; empty without a work queue. */
    public Optional<String> warmUp() {
        return batch.warmUp();
    }

    /**
     * One invocation: the proxy event's bytes in, the proxy response out. Throws only a {@link WrongEventException}
     * (an SQS or stream event: the function is wired to the wrong trigger).
     */
    public HttpAnswer process(byte[] event, Deadline invocationDeadline) {
        ObjectNode log = mapper.createObjectNode().put("event", "fanout.http");
        HttpAnswer answer = answer(event, invocationDeadline, log);
        // one summary per answer, whatever its status: an EMF event (answers2xx/4xx/5xx come from the status)
        LimitMetrics.add(log, limits);
        InvocationMetrics.log(log.put(InvocationMetrics.STATUS, answer.status()), "http");
        return answer;
    }

    /**
     * {@link #process} without its summary line: for the priming runs ({@link HttpStart}),
     * which are not invocations and must not count as answers in the metrics.
     */
    HttpAnswer answer(byte[] event, Deadline invocationDeadline, ObjectNode log) {
        long start = System.nanoTime();
        HttpAnswer answer;
        try {
            ApiGatewayRequest request = ApiGatewayRequest.read(readEvent(event));
            log.put("format", request.format()).put("apiRequestId", request.requestId());
            BatchRequest body = BatchRequest.read(request, mapper);
            List<ParsedItem> items = new ArrayList<>(body.items().size());
            List<JsonNode> nodes = new ArrayList<>(body.items().size());
            for (int i = 0; i < body.items().size(); i++) {
                // each item read from its text as an SQS body is: the same bytes, the same item or the same reason
                ItemParser.Read read = parser.readText(body.items().get(i), Integer.toString(i), Optional.empty());
                items.add(read.item());
                nodes.add(read.json() == null ? NullNode.getInstance() : read.json());
            }
            answer = batch.answer(nodes, items, body.preferAsync(), deadline(request, invocationDeadline), log);
        } catch (Problem problem) {
            problem.describe(log);
            answer = problem.answer(mapper);
        } catch (WrongEventException e) {
            throw e; // not a request to answer: the invocation fails, and Lambda shows why
        } catch (RuntimeException | Error e) {
            LOG.error("the HTTP entry point failed", e);
            Problem problem = Problem.internal("the function failed (" + e.getClass().getSimpleName()
                    + "); the request may be retried");
            problem.describe(log);
            answer = problem.answer(mapper);
        }
        log.put("bytes", answer.size()).put(Metric.ELAPSED_MS.key(), Duration.ofNanos(System.nanoTime() - start).toMillis());
        return answer;
    }

    private JsonNode readEvent(byte[] event) {
        try {
            return mapper.readTree(event);
        } catch (IOException e) {
            throw Problem.notAProxyEvent("the event is not JSON");
        }
    }

    /** The invocation's deadline, or the API's own limit counted from the request's arrival if earlier. */
    Deadline deadline(ApiGatewayRequest request, Deadline invocationDeadline) {
        long arrivedAt = request.arrivedAtMillis();
        if (arrivedAt <= 0) {
            return invocationDeadline;
        }
        Duration sinceArrival = Duration.ofMillis(Math.max(0, System.currentTimeMillis() - arrivedAt));
        return invocationDeadline.atMost(batch.settings().apiTimeout().minus(sinceArrival));
    }
}

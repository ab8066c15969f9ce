package dev.fanout.batch.http;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * An error answer of the HTTP entry point, as RFC 9457 problem details
 * ({@code application/problem+json}): {@code type} (a URN per kind of problem, listed in
 * docs/http-api.md), {@code title}, {@code status}, {@code detail}, and {@code index} when one item is at
 * fault. Thrown where the problem is found; the entry point answers it ({@link #answer}).
 *
 * @param status  the HTTP status
 * @param kind    the last part of the type URN, also the log's {@code problem}
 * @param title   the same for every problem of this kind
 * @param detail  this occurrence
 * @param index   the offending item's index, or null
 * @param headers extra response headers ({@code Allow}, {@code Retry-After}, ...)
 */
public final class Problem extends RuntimeException {

    static final String TYPE_PREFIX = "urn:fanout:problem:";
    /** Most bytes a detail takes in the answer: it may quote client text. */
    static final int MAX_DETAIL_BYTES = 1_024;

    final int status;
    final String kind;
    final String title;
    final String detail;
    final Integer index;
    final Map<String, String> headers;

    Problem(int status, String kind, String title, String detail, Integer index, Map<String, String> headers) {
        super(detail, null, false, false);
        this.status = status;
        this.kind = kind;
        this.title = title;
        this.detail = EscapedJson.cap(detail, MAX_DETAIL_BYTES);
        this.index = index;
        this.headers = Map.copyOf(headers);
    }

    String type() {
        return TYPE_PREFIX + kind;
    }

    public static Problem notAProxyEvent(String detail) {
        return new Problem(400, "not-a-proxy-event", "The event is not an API Gateway proxy request", detail, null,
                Map.of());
    }

    public static Problem methodNotAllowed(String method) {
        return new Problem(405, "method-not-allowed", "Only POST is served",
                "use POST with a JSON body {\"items\": [...]}, not " + (method == null ? "an unknown method" : method),
                null, Map.of("Allow", "POST"));
    }

    public static Problem unsupportedMediaType(String contentType) {
        return new Problem(415, "unsupported-media-type", "The body must be JSON",
                "send Content-Type: application/json" + (contentType == null ? " (the request has none)"
                        : ", not " + contentType),
                null, Map.of("Accept-Post", "application/json"));
    }

    public static Problem invalidBody(String detail) {
        return new Problem(400, "invalid-body", "The body cannot be read as text", detail, null, Map.of());
    }

    public static Problem invalidJson(String detail, Integer index) {
        return new Problem(400, "invalid-json", "The body is not strict JSON", detail, index, Map.of());
    }

    public static Problem invalidBatch(String detail) {
        return new Problem(400, "invalid-batch", "The body is not a batch", detail, null, Map.of());
    }

    public static Problem tooManyItems(String detail) {
        return new Problem(413, "too-many-items", "The batch is over the synchronous limits", detail, null, Map.of());
    }

    public static Problem noTimeLeft(String detail) {
        return new Problem(503, "no-time-left", "No time left to run the batch", detail, null,
                Map.of("Retry-After", "1"));
    }

    public static Problem notQueued(String detail) {
        return new Problem(503, "not-queued", "No item could be queued", detail, null, Map.of("Retry-After", "1"));
    }

    public static Problem internal(String detail) {
        return new Problem(500, "internal", "The function failed", detail, null, Map.of());
    }

    /** The problem's answer: its JSON as {@code application/problem+json}, with its extra headers. */
    public HttpAnswer answer(ObjectMapper mapper) {
        ObjectNode body = mapper.createObjectNode().put("type", type()).put("title", title).put("status", status)
                .put("detail", detail);
        if (index != null) {
            body.put("index", index);
        }
        Map<String, String> answerHeaders = new LinkedHashMap<>();
        answerHeaders.put("Content-Type", "application/problem+json");
        answerHeaders.putAll(new TreeMap<>(headers));
        return HttpAnswer.of(mapper, status, answerHeaders, List.of(EscapedJson.escape(body.toString())));
    }

    /** The problem in the answer's log event: its kind, detail and item index. */
    public void describe(ObjectNode log) {
        log.put("problem", kind).put("detail", detail);
        if (index != null) {
            log.put("index", index);
        }
    }
}

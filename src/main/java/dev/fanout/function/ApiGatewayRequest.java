package dev.fanout.function;

import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;

import dev.fanout.batch.http.EscapedJson;
import dev.fanout.batch.http.Problem;

/**
 * One request as API Gateway's Lambda proxy integration hands it over, in either payload format, told
 * apart by the event itself:
 * <ul>
 * <li>format 2.0 (HTTP API): {@code "version": "2.0"}, the method in {@code requestContext.http.method},
 * the arrival in {@code requestContext.timeEpoch}, header names in lower case;</li>
 * <li>format 1.0 (REST API, and HTTP API in 1.0 mode): {@code "version": "1.0"} or no version at all (REST
 * APIs send none), the method in {@code httpMethod}, the arrival in {@code requestContext.requestTimeEpoch},
 * header names as the client sent them, repeated headers in {@code multiValueHeaders}.</li>
 * </ul>
 * Both answer with the same response shape ({@code statusCode}, {@code headers}, {@code body},
 * {@code isBase64Encoded}).
 *
 * @param format          "1.0" or "2.0"
 * @param method          the HTTP method, upper case
 * @param headers         header values by lower-case name (a repeated header's values joined with ", ")
 * @param body            the body as API Gateway passed it (base64 if {@code base64})
 * @param base64          whether {@code body} is base64
 * @param arrivedAtMillis when API Gateway received the request (epoch millis), 0 if the event does not say
 * @param requestId       API Gateway's request id, for the log
 */
record ApiGatewayRequest(String format, String method, Map<String, String> headers, String body, boolean base64,
        long arrivedAtMillis, String requestId) {

    /**
     * Reads a proxy event.
     *
     * @throws Problem if it is neither payload format
     * @throws WrongEventException if it is an AWS service's records (SQS, a stream, SNS, ...), not a request
     */
    static ApiGatewayRequest read(JsonNode event) {
        if (event == null || !event.isObject()) {
            throw Problem.notAProxyEvent("the event is not a JSON object");
        }
        JsonNode context = event.path("requestContext");
        String version = event.path("version").asText("");
        if (version.equals("2.0")) {
            return new ApiGatewayRequest("2.0", upper(context.path("http").path("method").asText(null)),
                    headers(event), text(event, "body"), event.path("isBase64Encoded").asBoolean(false),
                    context.path("timeEpoch").asLong(0), context.path("requestId").asText(null));
        }
        if (version.equals("1.0") || version.isEmpty() && event.has("httpMethod")) {
            return new ApiGatewayRequest("1.0", upper(event.path("httpMethod").asText(null)), headers(event),
                    text(event, "body"), event.path("isBase64Encoded").asBoolean(false),
                    context.path("requestTimeEpoch").asLong(0), context.path("requestId").asText(null));
        }
        if (event.path("Records").isArray()) {
            // an AWS service's records (SQS, a stream, SNS, ...): the trigger is wired to the wrong function, which is
            // no client's error to answer but the invocation's
            throw EventKind.of(event).wrongFor("http", EventKind.API_GATEWAY);
        }
        throw Problem.notAProxyEvent(version.isEmpty()
                ? "the event has neither a 'version' nor an 'httpMethod': it is not an API Gateway proxy event"
                : "payload format version '" + EscapedJson.cap(version, 64) + "' is not 1.0 or 2.0");
    }

    /** A header's value by its name, in any case; null if absent. */
    String header(String name) {
        return headers.get(name.toLowerCase(Locale.ROOT));
    }

    private static Map<String, String> headers(JsonNode event) {
        Map<String, String> headers = new TreeMap<>();
        // multiValueHeaders (format 1.0) holds every value of a repeated header; headers only the last
        JsonNode multi = event.path("multiValueHeaders");
        for (Iterator<Map.Entry<String, JsonNode>> it = multi.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> header = it.next();
            if (header.getValue().isArray()) {
                var values = new StringBuilder();
                header.getValue().forEach(v -> values.append(values.isEmpty() ? "" : ", ").append(v.asText()));
                headers.merge(header.getKey().toLowerCase(Locale.ROOT), values.toString(), (a, b) -> a + ", " + b);
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = event.path("headers").fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> header = it.next();
            if (header.getValue().isTextual()) {
                headers.putIfAbsent(header.getKey().toLowerCase(Locale.ROOT), header.getValue().asText());
            }
        }
        return headers;
    }

    private static String text(JsonNode event, String field) {
        JsonNode value = event.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static String upper(String method) {
        return method == null ? null : method.toUpperCase(Locale.ROOT);
    }
}

package dev.fanout.batch.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Each problem's answer, as API Gateway receives it: status, headers, and the RFC 9457 body. */
class ProblemTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static JsonNode envelope(Problem problem) throws Exception {
        HttpAnswer answer = problem.answer(MAPPER);
        JsonNode envelope = MAPPER.readTree(answer.bytes());
        assertThat(answer.status()).isEqualTo(envelope.get("statusCode").asInt());
        assertThat(answer.size()).isEqualTo(answer.bytes().length);
        return envelope;
    }

    private static void assertAnswer(Problem problem, int status, String kind, String title, String detail,
            String headers) throws Exception {
        JsonNode envelope = envelope(problem);
        assertThat(envelope.get("statusCode").asInt()).isEqualTo(status);
        assertThat(envelope.get("headers")).isEqualTo(MAPPER.readTree(headers));
        assertThat(envelope.get("isBase64Encoded").asBoolean()).isFalse();
        assertThat(MAPPER.readTree(envelope.get("body").asText())).isEqualTo(MAPPER.createObjectNode()
                .put("type", "urn:fanout:problem:" + kind).put("title", title).put("status", status).put("detail", detail));
        var log = MAPPER.createObjectNode();
        problem.describe(log);
        assertThat(log).isEqualTo(MAPPER.createObjectNode().put("problem", kind).put("detail", detail));
    }

    private static final String JSON = "{\"Content-Type\":\"application/problem+json\"}";
    private static final String RETRY = "{\"Content-Type\":\"application/problem+json\",\"Retry-After\":\"1\"}";

    @Test
    void eachKindAnswersItsStatusTypeTitleAndHeaders() throws Exception {
        assertAnswer(Problem.notAProxyEvent("no httpMethod"), 400, "not-a-proxy-event",
                "The event is not an API Gateway proxy request", "no httpMethod", JSON);
        assertAnswer(Problem.methodNotAllowed("GET"), 405, "method-not-allowed", "Only POST is served",
                "use POST with a JSON body {\"items\": [...]}, not GET",
                "{\"Content-Type\":\"application/problem+json\",\"Allow\":\"POST\"}");
        assertAnswer(Problem.methodNotAllowed(null), 405, "method-not-allowed", "Only POST is served",
                "use POST with a JSON body {\"items\": [...]}, not an unknown method",
                "{\"Content-Type\":\"application/problem+json\",\"Allow\":\"POST\"}");
        assertAnswer(Problem.unsupportedMediaType("text/plain"), 415, "unsupported-media-type",
                "The body must be JSON", "send Content-Type: application/json, not text/plain",
                "{\"Content-Type\":\"application/problem+json\",\"Accept-Post\":\"application/json\"}");
        assertAnswer(Problem.unsupportedMediaType(null), 415, "unsupported-media-type", "The body must be JSON",
                "send Content-Type: application/json (the request has none)",
                "{\"Content-Type\":\"application/problem+json\",\"Accept-Post\":\"application/json\"}");
        assertAnswer(Problem.invalidBody("bad base64"), 400, "invalid-body", "The body cannot be read as text",
                "bad base64", JSON);
        assertAnswer(Problem.invalidBatch("no items"), 400, "invalid-batch", "The body is not a batch", "no items",
                JSON);
        assertAnswer(Problem.tooManyItems("2000 > 1000"), 413, "too-many-items",
                "The batch is over the synchronous limits", "2000 > 1000", JSON);
        assertAnswer(Problem.noTimeLeft("1 ms left"), 503, "no-time-left", "No time left to run the batch",
                "1 ms left", RETRY);
        assertAnswer(Problem.notQueued("queue down"), 503, "not-queued", "No item could be queued", "queue down",
                RETRY);
        assertAnswer(Problem.internal("boom"), 500, "internal", "The function failed", "boom", JSON);
        assertAnswer(Problem.invalidJson("trailing comma", null), 400, "invalid-json", "The body is not strict JSON",
                "trailing comma", JSON);
    }

    @Test
    void anItemsProblemNamesItsIndex() throws Exception {
        Problem problem = Problem.invalidJson("duplicate key", 7);
        JsonNode body = MAPPER.readTree(envelope(problem).get("body").asText());
        assertThat(body).isEqualTo(MAPPER.createObjectNode().put("type", "urn:fanout:problem:invalid-json")
                .put("title", "The body is not strict JSON").put("status", 400).put("detail", "duplicate key")
                .put("index", 7));
        var log = MAPPER.createObjectNode();
        problem.describe(log);
        assertThat(log).isEqualTo(MAPPER.createObjectNode().put("problem", "invalid-json")
                .put("detail", "duplicate key").put("index", 7));
        assertThat(problem.getMessage()).isEqualTo("duplicate key");
        assertThat(problem.getStackTrace()).isEmpty();
    }

    @Test
    void extraHeadersFollowTheContentTypeInNameOrder() throws Exception {
        var problem = new Problem(429, "x", "X", "d", null, Map.of("Retry-After", "2", "Allow", "POST", "B", "b"));
        String text = new String(problem.answer(MAPPER).bytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(text).startsWith("{\"statusCode\":429,\"headers\":{\"Content-Type\":\"application/problem+json\","
                + "\"Allow\":\"POST\",\"B\":\"b\",\"Retry-After\":\"2\"},\"body\":\"");
    }

    @Test
    void aLongDetailIsCutToItsCap() throws Exception {
        String detail = "unknown type " + "x".repeat(5_000);
        Problem problem = Problem.invalidBatch(detail);
        String answered = MAPPER.readTree(MAPPER.readTree(problem.answer(MAPPER).bytes()).get("body").asText())
                .get("detail").asText();
        assertThat(answered).startsWith("unknown type xxx").endsWith(EscapedJson.CUT_MARK);
        assertThat(EscapedJson.answerSize(answered)).isEqualTo(Problem.MAX_DETAIL_BYTES);
        assertThat(problem.getMessage()).isEqualTo(detail);
    }
}

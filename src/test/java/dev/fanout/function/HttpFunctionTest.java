package dev.fanout.function;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.nullValue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.ProxyEvents;
import dev.fanout.testing.ProxyEvents.Format;
import dev.fanout.testing.ProxyEvents.Response;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.parsing.Parser;

/**
 * The API Gateway entry point in the Quarkus application, invoked through Quarkus's mock Lambda event
 * server with RestAssured: proxy events of every payload format in (REST API 1.0, HTTP API 1.0 and 2.0,
 * from the fixtures in events/), proxy responses out; every error answer is RFC 9457 problem details.
 */
@QuarkusTest
@TestProfile(HttpFunctionTest.HttpEntryPoint.class)
class HttpFunctionTest {

    public static class HttpEntryPoint implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.lambda.handler", "http");
        }
    }

    /** Invokes the function with a proxy event; the Lambda invocation itself always succeeds. */
    static Response invoke(ObjectNode event) {
        return invoke(event.toString());
    }

    static Response invoke(String event) {
        // the mock event server labels the stream handler's answer as a form; it is the proxy response's JSON
        byte[] response = given().contentType(ContentType.JSON).body(event).when().post()
                .then().using().parser("application/x-www-form-urlencoded", Parser.JSON)
                .statusCode(200).body("isBase64Encoded", equalTo(false)).body("multiValueHeaders", nullValue())
                .extract().asByteArray();
        return Response.read(response);
    }

    /** The problem details of an error answer, checked field by field. */
    static JsonNode problem(ObjectNode event, int status, String kind, String title, String detail) {
        return problem(event.toString(), status, kind, title, detail);
    }

    static JsonNode problem(String event, int status, String kind, String title, String detail) {
        Response response = invoke(event);
        assertThat(response.status()).isEqualTo(status);
        assertThat(response.headers()).containsEntry("Content-Type", "application/problem+json");
        JsonNode body = response.body();
        assertThat(body.get("type").asText()).isEqualTo("urn:fanout:problem:" + kind);
        assertThat(body.get("title").asText()).isEqualTo(title);
        assertThat(body.get("status").asInt()).isEqualTo(status);
        assertThat(body.get("detail").asText()).isEqualTo(detail);
        return body;
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void theSampleEventGetsResultsInInputOrderAndBadItemsAreRejectedAlone(Format format) {
        Response response = invoke(format.event());

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.headers()).containsEntry("Content-Type", "application/json");
        JsonNode results = response.results();
        assertThat(results).hasSize(5);
        assertThat(results.get(0).get("itemId").asText()).isEqualTo("a");
        assertThat(results.get(0).get("status").asText()).isEqualTo("succeeded");
        assertThat(results.get(0).at("/output/rounds").asInt()).isEqualTo(2);
        assertThat(results.get(1).at("/output/sleptMillis").asInt()).isEqualTo(5);
        assertThat(results.get(2).at("/error/message").asText())
                .isEqualTo("unknown item type 'teleport' (known types: delay, digest, greet, http, order-change)");
        assertThat(results.get(3).at("/error/message").asText()).isEqualTo("'digest' payload: field 'data' is required");
        assertThat(results.get(4).get("itemId").asText()).isEqualTo("4");
        assertThat(results.get(4).at("/error/message").asText()).isEqualTo("item must be a JSON object, was a string");
        assertThat(response.body().at("/summary/succeeded").asInt()).isEqualTo(2);
        assertThat(response.body().at("/summary/rejected").asInt()).isEqualTo(3);
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void aUserHandlerIsReachedByItsType(Format format) {
        Response response = invoke(format.event("{\"items\":[{\"type\":\"greet\",\"payload\":{\"name\":\"Ada\"}},"
                + "{\"type\":\"greet\",\"payload\":{\"name\":\"Ada\",\"nom\":\"x\"}},"
                + "{\"type\":\"greet\",\"payload\":{\"nom\":\"Ada\"}}]}"));

        JsonNode results = response.results();
        assertThat(results.get(0).at("/output/greeting").asText()).isEqualTo("Hello, Ada");
        assertThat(results.get(1).at("/error/message").asText()).isEqualTo("'greet' payload: unknown field 'nom'");
        assertThat(results.get(2).at("/error/message").asText()).isEqualTo("'greet' payload: field 'name' is required");
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void base64BodiesAndJsonMediaTypesWithParameters(Format format) {
        ObjectNode event = format.base64Event(
                "{\"items\":[{\"type\":\"digest\",\"payload\":{\"data\":\"\u00e9\"}}]}".getBytes(StandardCharsets.UTF_8));
        format.withHeader(event, "Content-Type", "application/vnd.fanout+json; charset=UTF-8");

        assertThat(invoke(event).results().get(0).get("status").asText()).isEqualTo("succeeded");
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void onlyPostIsServed(Format format) {
        JsonNode body = problem(format.withMethod(format.event("{}"), "GET"), 405, "method-not-allowed",
                "Only POST is served", "use POST with a JSON body {\"items\": [...]}, not GET");
        assertThat(body.has("index")).isFalse();
        assertThat(invoke(format.withMethod(format.event("{}"), "GET")).headers()).containsEntry("Allow", "POST");
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void theBodyMustBeDeclaredJson(Format format) {
        problem(format.withHeader(format.event("{\"items\":[]}"), "Content-Type", "text/plain"), 415,
                "unsupported-media-type", "The body must be JSON", "send Content-Type: application/json, not text/plain");
        problem(format.withHeader(format.event("{\"items\":[]}"), "Content-Type", null), 415,
                "unsupported-media-type", "The body must be JSON", "send Content-Type: application/json (the request has none)");
        Response latin1 = invoke(format.withHeader(format.event("{\"items\":[]}"), "Content-Type",
                "application/json; charset=ISO-8859-1"));
        assertThat(latin1.status()).isEqualTo(415);
        assertThat(latin1.headers()).containsEntry("Accept-Post", "application/json");
        assertThat(latin1.body().get("detail").asText())
                .isEqualTo("send Content-Type: application/json, not application/json; charset=ISO-8859-1 (JSON is UTF-8)");
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void bodiesThatAreNotTextAreRefused(Format format) {
        problem(format.base64Event(new byte[] {'{', '"', 'i', (byte) 0xC3, '"', ':', '1', '}'}), 400, "invalid-body",
                "The body cannot be read as text", "the body is not valid UTF-8: 1 malformed byte(s) at byte 3");
        problem(format.base64Event(new byte[] {'{', (byte) 0xFF, '}'}), 400, "invalid-body",
                "The body cannot be read as text", "the body is not valid UTF-8: 1 malformed byte(s) at byte 1");
        ObjectNode notBase64 = format.event("@@@");
        notBase64.put("isBase64Encoded", true);
        problem(notBase64, 400, "invalid-body", "The body cannot be read as text",
                "the body is not valid base64: Illegal base64 character 40");
        // a lone surrogate cannot be sent as UTF-8: the event carries it as a JSON escape, as API Gateway would
        problem(format.event("{\"items\":[{\"id\":\"SURROGATE\"}]}").toString().replace("SURROGATE", "\\ud800"), 400, "invalid-body", "The body cannot be read as text",
                "the body has a lone UTF-16 surrogate at character 17: it is not valid Unicode text");
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void strictJson(Format format) {
        problem(format.event("{\"items\":[],\"items\":[]}"), 400, "invalid-json", "The body is not strict JSON",
                "the body is not valid JSON: Duplicate field 'items' at line 1, column 20");
        // a duplicate key inside one item: that item is rejected, as the same text on the SQS entry point is, and the
        // other items run (StrictItemsTest compares both entry points on a table of such items)
        Response inItem = invoke(format.event("{\"items\":[{\"type\":\"digest\",\"payload\":{\"data\":\"x\"}},"
                + "{\"type\":\"digest\",\"type\":\"http\"}]}"));
        assertThat(inItem.status()).isEqualTo(200);
        assertThat(inItem.results().get(0).get("status").asText()).isEqualTo("succeeded");
        assertThat(inItem.results().get(1).get("status").asText()).isEqualTo("rejected");
        assertThat(inItem.results().get(1).at("/error/message").asText())
                .isEqualTo("item is not valid JSON: Duplicate field 'type' at line 1, column 24");
        // a syntax error inside an item breaks the whole body: it names the item
        JsonNode broken = problem(format.event("{\"items\":[{\"type\":\"digest\"},{\"type\" \"digest\"}]}"), 400,
                "invalid-json", "The body is not strict JSON",
                "the body is not valid JSON: Unexpected character ('\"' (code 34)): was expecting a colon to separate field"
                        + " name and value at line 1, column 37");
        assertThat(broken.get("index").asInt()).isEqualTo(1);
        problem(format.event("{\"items\":[]} x"), 400, "invalid-json", "The body is not strict JSON",
                "the body is not valid JSON: Unrecognized token 'x': was expecting (JSON String, Number, Array, Object or"
                        + " token 'null', 'true' or 'false') at line 1, column 14");
        problem(format.event("{\"items\":[]}{\"items\":[]}"), 400, "invalid-json", "The body is not strict JSON",
                "the body goes on after its JSON object, at line 1, column 14");
        problem(format.event("{\"items\": "), 400, "invalid-json", "The body is not strict JSON",
                "the body is not valid JSON: Unexpected end-of-input within/between Object entries at line 1, column 11");
    }

    /**
     * An SQS or stream event is no request to answer: the trigger is wired to the wrong function, and the invocation
     * fails with an error that names the kind and the handler that serves it (the mock event server passes the
     * function error back as a 500).
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "events/sqs-standard.json | an SQS event, which QUARKUS_LAMBDA_HANDLER=sqs serves",
            "events/sqs-empty.json | an SQS event, which QUARKUS_LAMBDA_HANDLER=sqs serves",
            "src/test/resources/foreign-events/kinesis.json | a Kinesis stream event, which QUARKUS_LAMBDA_HANDLER=kinesis serves",
            "src/test/resources/foreign-events/dynamodb.json | a DynamoDB stream event, which QUARKUS_LAMBDA_HANDLER=dynamodb serves",
            "src/test/resources/foreign-events/sns.json | an event of source 'aws:sns', which no Fanout entry point serves" })
    void anEventOfAnotherKindFailsTheInvocation(String fixture, String looksLike) throws Exception {
        var response = given().contentType(ContentType.JSON).body(Files.readString(Path.of(fixture))).when().post()
                .then().using().parser("application/x-www-form-urlencoded", Parser.JSON).extract();

        assertThat(response.statusCode()).as(response.body().asString()).isEqualTo(500);
        JsonNode error = new ObjectMapper().readTree(response.body().asByteArray());
        assertThat(error.get("errorType").asText()).isEqualTo(WrongEventException.class.getName());
        assertThat(error.get("errorMessage").asText()).isEqualTo("not an API Gateway proxy event: this looks like "
                + looksLike + "; this function runs QUARKUS_LAMBDA_HANDLER=http (check the trigger wired to it)");
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void requestsThatAreNoBatchGetAClearClientError(Format format) {
        problem(format.event("[1, 2]"), 400, "invalid-batch", "The body is not a batch",
                "the body must be a JSON object with an array 'items'");
        problem(format.event("{\"items\": {}}"), 400, "invalid-batch", "The body is not a batch",
                "field 'items' must be an array of items");
        problem(format.event("{}"), 400, "invalid-batch", "The body is not a batch", "field 'items' must be an array of items");
        problem(format.event("{\"items\":[],\"callback\":\"x\"}"), 400, "invalid-batch", "The body is not a batch",
                "unknown field 'callback' (a batch has the one field 'items')");
        ObjectNode empty = format.event();
        empty.remove("body");
        problem(empty, 400, "invalid-batch", "The body is not a batch", "the body is empty: send {\"items\": [...]}");
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void tooManyItemsWithoutAWorkQueueIs413(Format format) {
        problem(format.event(ProxyEvents.batch(java.util.Collections.nCopies(1_001, "{\"type\":\"delay\"}"))), 413,
                "too-many-items", "The batch is over the synchronous limits",
                "a request runs at most 1000 items synchronously, this one has 1001; this deployment has no work queue"
                        + " for queued mode");
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void aRequestThatArrivedTooLongAgoIsTurnedAwayNotRun(Format format) {
        ObjectNode event = format.arrivedAgo(format.event("{\"items\":[{\"type\":\"delay\",\"payload\":{\"millis\":1}}]}"),
                29_500);
        Response response = invoke(event);
        assertThat(response.status()).isEqualTo(503);
        assertThat(response.headers()).containsEntry("Retry-After", "1");
        assertThat(response.body().get("type").asText()).isEqualTo("urn:fanout:problem:no-time-left");
        assertThat(response.body().get("detail").asText()).matches(
                "no time left to run the batch before the deadline \\(\\d+ ms left\\); retry");
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void aPayloadFormatThatIsNeitherIsRefused(Format format) {
        ObjectNode event = format.event();
        event.put("version", "3.0");
        problem(event, 400, "not-a-proxy-event", "The event is not an API Gateway proxy request",
                "payload format version '3.0' is not 1.0 or 2.0");
    }

    @org.junit.jupiter.api.Test
    void anEventWithoutVersionOrMethodIsNoProxyEvent() {
        problem(new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode().put("Records", "x"), 400,
                "not-a-proxy-event", "The event is not an API Gateway proxy request",
                "the event has neither a 'version' nor an 'httpMethod': it is not an API Gateway proxy event");
    }
}

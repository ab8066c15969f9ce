package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.batch.http.RequestBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.ProxyEvents.Format;
import dev.fanout.testing.ProxyEvents.Response;
import dev.fanout.testing.SqsEvents;
import dev.fanout.work.ItemParser;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * One table of item texts through both entry points: as the body of an SQS record (the SQS processor, results on
 * ElasticMQ) and as an element of an HTTP request's {@code items}, written into the request's body as it is (the
 * HTTP processor). Each text gets the same outcome and the same reason on both, and the good item beside it in the
 * same batch succeeds on both.
 */
class StrictItemsTest {

    static final ObjectMapper MAPPER = SqsBatchProcessorTest.MAPPER;
    static final ElasticMq sqs = ElasticMq.shared();

    /** An item text, and what it must mean on every entry point: a status, and the reason if it is not "succeeded". */
    record Row(String text, String status, String reason) {
    }

    static final String GOOD = "{\"id\":\"good\",\"type\":\"digest\",\"payload\":{\"data\":\"x\"}}";

    static final List<Row> TABLE = List.of(
            new Row("{\"id\":\"ok\",\"type\":\"digest\",\"payload\":{\"data\":\"x\",\"rounds\":2}}", "succeeded", null),
            // duplicate keys, at every depth: whichever copy a reader keeps, the item would mean something else
            new Row("{\"id\":\"dk2\",\"type\":\"digest\",\"type\":\"delay\",\"payload\":{\"millis\":1}}", "rejected",
                    "item is not valid JSON: Duplicate field 'type' at line 1, column 35"),
            new Row("{\"id\":\"dk3\",\"type\":\"delay\",\"payload\":{\"millis\":1,\"millis\":2}}", "rejected",
                    "item is not valid JSON: Duplicate field 'millis' at line 1, column 58"),
            new Row("{\"id\":\"dk4\",\"id\":\"dk4b\",\"type\":\"delay\",\"payload\":{\"millis\":1}}", "rejected",
                    "item is not valid JSON: Duplicate field 'id' at line 1, column 17"),
            new Row("{\"type\":\"digest\",\"payload\":{\"data\":\"x\"},\"type\":\"digest\"}", "rejected",
                    "item is not valid JSON: Duplicate field 'type' at line 1, column 47"),
            new Row("{\"type\":\"digest\",\"payload\":{\"data\":\"x\",\"meta\":{\"a\":1,\"a\":1}}}", "rejected",
                    "item is not valid JSON: Duplicate field 'a' at line 1, column 57"),
            new Row("{\"type\":\"digest\",\"payload\":{\"data\":\"x\",\"list\":[{\"k\":1},{\"k\":1,\"k\":2}]}}", "rejected",
                    "item is not valid JSON: Duplicate field 'k' at line 1, column 66"),
            new Row("[{\"a\":1,\"a\":2}]", "rejected", "item is not valid JSON: Duplicate field 'a' at line 1, column 12"),
            // what strict JSON allows and an item does not
            new Row("[1,2]", "rejected", "item must be a JSON object, was an array"),
            new Row("\"text\"", "rejected", "item must be a JSON object, was a string"),
            new Row("42", "rejected", "item must be a JSON object, was a number"),
            new Row("null", "rejected", "item must be a JSON object, was null"),
            new Row("{\"type\":\"digest\",\"paylod\":{}}", "rejected",
                    "unknown field 'paylod' (an item has id, type, group and payload)"),
            new Row("{\"type\":\"teleport\"}", "rejected", "unknown item type 'teleport' (known types: delay, digest, echo)"),
            // whitespace around and inside the item is no leniency: it is JSON
            new Row(" {\n \"type\" : \"digest\" , \"payload\" : {\"data\" : \"x\"} }\n", "succeeded", null),
            new Row("{\"type\":\"digest\",\n\"type\":\"delay\"}", "rejected",
                    "item is not valid JSON: Duplicate field 'type' at line 2, column 7"));

    /** Status and reason (null for a success) of each row, in table order, through the SQS processor. */
    static List<String[]> throughSqs(List<String> texts) {
        String queue = sqs.createQueue("strict-items");
        List<String> bodies = new ArrayList<>(texts);
        bodies.add(GOOD);
        var invocation = SqsBatchProcessorTest.processor(queue).process(SqsEvents.parse(SqsEvents.standard(bodies)),
                Deadline.after(Duration.ofSeconds(20)));
        List<String> ids = SqsEvents.parse(SqsEvents.standard(bodies)).getRecords().stream()
                .map(r -> r.getMessageId()).toList();
        assertThat(SqsBatchProcessorTest.failedIds(invocation.response())).as("nothing handed back").isEmpty();
        Map<String, JsonNode> results = SqsBatchProcessorTest.resultsBySource(sqs.drain(queue));
        assertThat(results).hasSize(bodies.size());
        List<String[]> outcomes = new ArrayList<>();
        for (String id : ids) {
            outcomes.add(outcome(results.get(id)));
        }
        return outcomes;
    }

    /** The same, through the HTTP processor: one request whose items are the texts, written in as they are. */
    static List<String[]> throughHttp(List<String> texts, Format format) {
        var processor = new HttpBatchProcessor(new WorkerPool(Limits.of(64).withCutoffMargin(Duration.ofMillis(300))),
                SqsBatchProcessorTest.handlers(), new ItemParser(MAPPER, Optional.empty()), MAPPER,
                new RequestBatch.Settings(Duration.ofSeconds(29), 1_000, HttpAnswer.LAMBDA_RESPONSE_LIMIT, 10_000),
                Optional.empty());
        String body = "{\"items\":[" + String.join(",", texts) + "," + GOOD + "]}";
        HttpAnswer answer = processor.process(format.event(body).toString().getBytes(StandardCharsets.UTF_8),
                Deadline.after(Duration.ofSeconds(20)));
        Response response = Response.read(answer.bytes());
        assertThat(response.status()).as(response.body().toString()).isEqualTo(200);
        ArrayNode results = (ArrayNode) response.results();
        assertThat(results).hasSize(texts.size() + 1);
        List<String[]> outcomes = new ArrayList<>();
        results.forEach(result -> outcomes.add(outcome(result)));
        return outcomes;
    }

    static String[] outcome(JsonNode result) {
        String status = result.get("status").asText();
        return new String[] {status, status.equals("succeeded") ? null : result.at("/error/message").asText()};
    }

    static void assertTable(List<String[]> outcomes, String entryPoint) {
        for (int i = 0; i < TABLE.size(); i++) {
            Row row = TABLE.get(i);
            assertThat(outcomes.get(i)).as("%s, row %d: %s", entryPoint, i, row.text()).containsExactly(row.status(),
                    row.reason());
        }
        assertThat(outcomes.get(TABLE.size())).as("%s: the good item beside them", entryPoint)
                .containsExactly("succeeded", null);
    }

    @Test
    void theSqsEntryPointGivesEachTextItsOutcomeAndReason() {
        assertTable(throughSqs(TABLE.stream().map(Row::text).toList()), "sqs");
    }

    @ParameterizedTest
    @EnumSource(Format.class)
    void theHttpEntryPointGivesEachTextTheSameOutcomeAndReason(Format format) {
        assertTable(throughHttp(TABLE.stream().map(Row::text).toList(), format), "http " + format);
    }

    @Test
    void bothEntryPointsAgreeRowByRow() {
        List<String> texts = TABLE.stream().map(Row::text).toList();
        List<String[]> sqsOutcomes = throughSqs(texts);
        List<String[]> httpOutcomes = throughHttp(texts, Format.HTTP_API_V2);
        for (int i = 0; i <= TABLE.size(); i++) {
            assertThat(httpOutcomes.get(i)).as("row %d", i).containsExactly(sqsOutcomes.get(i));
        }
    }

    /**
     * Text after the item: an SQS body can carry it, and the item is rejected; an element of {@code items} cannot
     * (the request's body would not be JSON), and the request is refused whole, naming the item.
     */
    @Test
    void textAfterTheItemIsRejectedOnSqsAndBreaksAnHttpBody() {
        List<String[]> sqsOutcomes = throughSqs(List.of("{\"type\":\"digest\",\"payload\":{\"data\":\"x\"}} trailing",
                "{\"type\":\"digest\",\"payload\":{\"data\":\"x\"}} {}", "{\"type\":\"digest\",\"payload\":{\"data\":\"x\"}}}"));
        assertThat(sqsOutcomes.get(0)).containsExactly("rejected", "item is not valid JSON: Unrecognized token 'trailing':"
                + " was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false') at line 1, column 42");
        assertThat(sqsOutcomes.get(1)).containsExactly("rejected", "item goes on after its JSON value, at line 1, column 42");
        assertThat(sqsOutcomes.get(2)).containsExactly("rejected",
                "item is not valid JSON: Unexpected close marker '}': no open Object to close at line 1, column 41");
        assertThat(sqsOutcomes.get(3)).containsExactly("succeeded", null);

        var processor = new HttpBatchProcessor(new WorkerPool(Limits.of(4)), SqsBatchProcessorTest.handlers(),
                new ItemParser(MAPPER, Optional.empty()), MAPPER,
                new RequestBatch.Settings(Duration.ofSeconds(29), 1_000, HttpAnswer.LAMBDA_RESPONSE_LIMIT, 10_000),
                Optional.empty());
        ObjectNode event = Format.HTTP_API_V2.event("{\"items\":[" + GOOD + ",{\"type\":\"digest\"} trailing]}");
        Response response = Response.read(processor.process(event.toString().getBytes(StandardCharsets.UTF_8),
                Deadline.after(Duration.ofSeconds(20))).bytes());
        assertThat(response.status()).isEqualTo(400);
        assertThat(response.body().get("type").asText()).isEqualTo("urn:fanout:problem:invalid-json");
        assertThat(response.body().get("detail").asText()).isEqualTo("the body is not valid JSON: Unexpected character"
                + " ('t' (code 116)): was expecting comma to separate Array entries at line 1, column 82");
        assertThat(response.body().has("index")).as("the text is after item 1, in no item").isFalse();
    }
}

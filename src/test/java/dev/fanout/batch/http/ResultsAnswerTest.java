package dev.fanout.batch.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import dev.fanout.engine.BatchResult;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.RunSummary;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkItem;

/** The synchronous answer: every result in input order, outputs kept while they fit, the limits checked up front. */
class ResultsAnswerTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Outcome.Timing TIMING = new Outcome.Timing(Instant.parse("2026-11-30T09:00:00Z"),
            Duration.ofMillis(42));
    private static final Map<String, String> JSON = Map.of("Content-Type", "application/json");

    private static ParsedItem item(String id, String type) {
        return new ParsedItem.Valid(new WorkItem(id, type, Optional.empty(), MAPPER.createObjectNode()));
    }

    private static Outcome<ResultsAnswer.PreparedOutput> output(String json) {
        return new Outcome.Succeeded<>(new ResultsAnswer.PreparedOutput(EscapedJson.escape(json)), TIMING);
    }

    private static RunSummary summary(int items, int succeeded, int failed, int rejected, int notStarted) {
        return new RunSummary(items, succeeded, failed, rejected, 0, notStarted, 2, Duration.ZERO, Duration.ZERO,
                Duration.ZERO, Duration.ofMillis(77), Duration.ofMillis(900), 0);
    }

    /** The answer's bytes read back as API Gateway would: the envelope, then its body. */
    private static JsonNode body(HttpAnswer answer) throws Exception {
        byte[] bytes = answer.bytes();
        assertThat(answer.size()).isEqualTo(bytes.length);
        JsonNode envelope = MAPPER.readTree(bytes);
        assertThat(envelope.get("statusCode").asInt()).isEqualTo(200);
        assertThat(answer.status()).isEqualTo(200);
        assertThat(envelope.get("headers")).isEqualTo(MAPPER.valueToTree(JSON));
        return MAPPER.readTree(envelope.get("body").asText());
    }

    private static long fixedBytes() {
        return HttpAnswer.envelopeSize(MAPPER, 200, JSON) + EscapedJson.escape("{\"results\":[").length
                + EscapedJson.escape("],\"summary\":").length + EscapedJson.escape("}").length
                + ResultsAnswer.SUMMARY_RESERVE;
    }

    @Test
    void everyResultInInputOrderWithItsOutputAndTheSummary() throws Exception {
        List<ParsedItem> items = List.of(item("a", "echo"), item("b", "echo"),
                new ParsedItem.Malformed("c", Optional.empty(), "body is empty"), item("d", "mystery"));
        List<Outcome<ResultsAnswer.PreparedOutput>> outcomes = List.of(output("{\"n\":1}"),
                new Outcome.Failed<>(new NonRetryableException("no \"such\" thing"), false, TIMING),
                new Outcome.Rejected<>("body is empty", TIMING),
                new Outcome.NotStarted<>(Outcome.NotStarted.Reason.CUT_OFF, OptionalInt.empty()));
        ObjectNode log = MAPPER.createObjectNode();

        HttpAnswer answer = new ResultsAnswer(MAPPER, 10, 100_000).assemble(items,
                new BatchResult<>(outcomes, summary(4, 1, 1, 1, 1)), log, Set.of("echo"));

        JsonNode body = body(answer);
        assertThat(body.get("results")).isEqualTo(MAPPER.readTree("""
                [{"itemId":"a","type":"echo","status":"succeeded","output":{"n":1},
                  "startedAt":"2026-11-30T09:00:00Z","durationMs":42},
                 {"itemId":"b","type":"echo","status":"failed",
                  "error":{"type":"NonRetryableException","message":"no \\"such\\" thing","retryable":false},
                  "startedAt":"2026-11-30T09:00:00Z","durationMs":42},
                 {"itemId":"c","status":"rejected","error":{"type":"Rejected","message":"body is empty","retryable":false},
                  "startedAt":"2026-11-30T09:00:00Z","durationMs":42},
                 {"itemId":"d","type":"mystery","status":"not_started",
                  "error":{"type":"NotStarted","message":"the invocation's cut-off came first","retryable":true}}]"""));
        // the result's fields come in ResultRecord's order
        assertThat(body.get("results").get(0).toString()).isEqualTo("{\"itemId\":\"a\",\"type\":\"echo\","
                + "\"status\":\"succeeded\",\"output\":{\"n\":1},\"startedAt\":\"2026-11-30T09:00:00Z\",\"durationMs\":42}");
        ObjectNode summary = MAPPER.createObjectNode().put("items", 4).put("succeeded", 1).put("failed", 1)
                .put("rejected", 1).put("timedOut", 0).put("notStarted", 1).put("peakConcurrency", 2)
                .put("outputDropped", 0).put("outputTooLarge", 0).put("engineMs", 77).put("timeLeftMs", 900);
        assertThat(body.get("summary")).isEqualTo(summary);
        assertThat(log.get("items.echo").asInt()).isEqualTo(2);
        assertThat(log.get("failures.echo").asInt()).isEqualTo(1);
        assertThat(log.get("items.other").asInt()).isEqualTo(2);
        assertThat(log.get("failures.other").asInt()).isEqualTo(1);
        assertThat(log.get("outputDropped").asInt()).isZero();
        assertThat(log.get("timeLeftMs").asInt()).isEqualTo(900);
        assertThat(log.get("answerMs").asLong()).isBetween(0L, 60_000L);
        assertThat(log.get("gcMs").asLong()).isBetween(0L, 60_000L);
    }

    @Test
    void anEmptyRunIsAnEmptyList() throws Exception {
        HttpAnswer answer = new ResultsAnswer(MAPPER, 10, 100_000).assemble(List.of(),
                new BatchResult<>(List.of(), summary(0, 0, 0, 0, 0)), MAPPER.createObjectNode(), Set.of());
        assertThat(body(answer).get("results")).isEmpty();
    }

    @Test
    void longClientTextInAResultIsCapped() throws Exception {
        String type = "t".repeat(1_000);
        String reason = "r".repeat(5_000);
        HttpAnswer answer = new ResultsAnswer(MAPPER, 10, 100_000).assemble(List.of(item("a", type)),
                new BatchResult<>(List.of(new Outcome.Rejected<>(reason, TIMING)), summary(1, 0, 0, 1, 0)),
                MAPPER.createObjectNode(), Set.of());
        JsonNode result = body(answer).get("results").get(0);
        assertThat(result.get("type").asText()).isEqualTo(EscapedJson.cap(type, ResultsAnswer.MAX_TYPE_BYTES));
        assertThat(EscapedJson.answerSize(result.get("type").asText())).isEqualTo(ResultsAnswer.MAX_TYPE_BYTES);
        assertThat(result.at("/error/message").asText()).isEqualTo(EscapedJson.cap(reason,
                ResultsAnswer.MAX_MESSAGE_BYTES));
        assertThat(result.get("itemId").asText()).isEqualTo("a");
    }

    /** Three items with outputs of 1,000 characters each, answered within {@code limit}. */
    private static JsonNode threeOutputs(int limit, ObjectNode log) throws Exception {
        String out = "\"" + "x".repeat(1_000) + "\"";
        List<ParsedItem> items = List.of(item("a", "echo"), item("b", "echo"), item("c", "echo"));
        HttpAnswer answer = new ResultsAnswer(MAPPER, 10, limit).assemble(items,
                new BatchResult<>(List.of(output(out), output(out), output(out)), summary(3, 3, 0, 0, 0)), log,
                Set.of("echo"));
        assertThat(answer.size()).isLessThanOrEqualTo(limit);
        return body(answer);
    }

    @Test
    void outputsAreKeptWhileTheWholeAnswerFitsThenDroppedFromTheFirstThatDoesNot() throws Exception {
        JsonNode all = threeOutputs(1_000_000, MAPPER.createObjectNode());
        int resultsBytes = 0;
        for (JsonNode result : all.get("results")) {
            resultsBytes += EscapedJson.escape(result.toString()).length;
        }
        // the least limit at which all three outputs are kept: fixed parts, the results and their two commas
        int exact = (int) (fixedBytes() + resultsBytes + 2 * EscapedJson.escape(",").length);
        assertThat(threeOutputs(exact, MAPPER.createObjectNode()).get("results"))
                .allSatisfy(result -> assertThat(result.get("status").asText()).isEqualTo("succeeded"));

        ObjectNode log = MAPPER.createObjectNode();
        JsonNode oneShort = threeOutputs(exact - 1, log);
        JsonNode results = oneShort.get("results");
        assertThat(results.get(0).get("output").asText()).hasSize(1_000);
        assertThat(results.get(1).get("output").asText()).hasSize(1_000);
        JsonNode dropped = results.get(2);
        assertThat(dropped.has("output")).isFalse();
        assertThat(dropped.get("status").asText()).isEqualTo("failed");
        long full = EscapedJson.escape(all.get("results").get(2).toString()).length;
        assertThat(dropped.get("error")).isEqualTo(MAPPER.createObjectNode().put("type", "OutputDropped")
                .put("message", "the item succeeded, but its result (" + full + " bytes) did not fit in this response"
                        + " with the others (" + (exact - 1) + " bytes in all); resubmit it in a smaller request, or"
                        + " with 'Prefer: respond-async' to get its result on the results queue")
                .put("retryable", true));
        assertThat(dropped.toString()).isEqualTo("{\"itemId\":\"c\",\"type\":\"echo\",\"status\":\"failed\",\"error\":"
                + dropped.get("error") + ",\"startedAt\":\"2026-11-30T09:00:00Z\",\"durationMs\":42}");
        assertThat(oneShort.at("/summary/succeeded").asInt()).isEqualTo(2);
        assertThat(oneShort.at("/summary/failed").asInt()).isEqualTo(1);
        assertThat(oneShort.at("/summary/outputDropped").asInt()).isEqualTo(1);
        assertThat(oneShort.at("/summary/outputTooLarge").asInt()).isZero();
        assertThat(log.get("outputDropped").asInt()).isEqualTo(1);
    }

    @Test
    void anOutputThatCouldNeverFitIsTooLargeNotDropped() throws Exception {
        String big = "\"" + "y".repeat(20_000) + "\"";
        List<ParsedItem> items = List.of(item("a", "echo"), item("b", "echo"));
        HttpAnswer answer = new ResultsAnswer(MAPPER, 10, 10_000).assemble(items,
                new BatchResult<>(List.of(output(big), output("1")), summary(2, 2, 0, 0, 0)),
                MAPPER.createObjectNode(), Set.of());

        JsonNode body = body(answer);
        JsonNode tooLarge = body.get("results").get(0);
        assertThat(tooLarge.at("/error/type").asText()).isEqualTo("OutputTooLarge");
        assertThat(tooLarge.at("/error/retryable").asBoolean()).isFalse();
        assertThat(tooLarge.at("/error/message").asText()).startsWith("the item succeeded, but its result takes ")
                .endsWith(" bytes, more than a response can carry (10000 bytes in all)");
        // the next output still fits
        assertThat(body.get("results").get(1).get("output").asInt()).isEqualTo(1);
        assertThat(body.at("/summary/outputTooLarge").asInt()).isEqualTo(1);
        assertThat(body.at("/summary/outputDropped").asInt()).isZero();
        assertThat(body.at("/summary/succeeded").asInt()).isEqualTo(1);
        assertThat(body.at("/summary/failed").asInt()).isEqualTo(1);
    }

    @Test
    void tooManyItemsAreOverTheSynchronousLimits() {
        var answer = new ResultsAnswer(MAPPER, 2, 1_000_000);
        assertThat(answer.overSynchronousLimits(List.of(item("a", "t"), item("b", "t")))).isNull();
        assertThat(answer.overSynchronousLimits(List.of(item("a", "t"), item("b", "t"), item("c", "t"))))
                .isEqualTo("a request runs at most 2 items synchronously, this one has 3");
    }

    @Test
    void idsThatCouldNotFitInAnAnswerAreOverTheSynchronousLimits() {
        List<ParsedItem> items = new ArrayList<>();
        long worst = fixedBytes();
        for (int i = 0; i < 3; i++) {
            String id = "id-" + "i".repeat(100 * i);
            items.add(item(id, "t"));
            worst += EscapedJson.answerSize(id) + ResultsAnswer.MAX_RESULT_BYTES_WITHOUT_ID;
        }
        assertThat(new ResultsAnswer(MAPPER, 10, (int) worst).overSynchronousLimits(items)).isNull();
        assertThat(new ResultsAnswer(MAPPER, 10, (int) worst - 1).overSynchronousLimits(items))
                .isEqualTo("the items' results could take " + worst + " bytes, more than a response can carry ("
                        + (worst - 1) + "): use shorter ids or fewer items");
    }

    @Test
    void resultsThatCannotFitEvenWithoutOutputsAreRefusedNotCut() {
        List<ParsedItem> items = List.of(item("a", "t"));
        var run = new BatchResult<>(List.of(new Outcome.Rejected<ResultsAnswer.PreparedOutput>("r".repeat(300), TIMING)),
                summary(1, 0, 0, 1, 0));
        int limit = (int) fixedBytes() + 10;
        assertThatThrownBy(() -> new ResultsAnswer(MAPPER, 10, limit).assemble(items, run, MAPPER.createObjectNode(),
                Set.of())).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("the results take ").hasMessageEndingWith(" bytes without outputs, over 10");
    }

    @Test
    void preparingWritesTheOutputOnceInItsEscapedForm() throws Exception {
        var answer = new ResultsAnswer(MAPPER, 10, 100_000);
        ResultsAnswer.PreparedOutput prepared = answer.preparing(context -> TextNode.valueOf("a\"b"))
                .handle(null);
        assertThat(new String(prepared.escaped(), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo("\\\"a\\\\\\\"b\\\"");
    }

    @Test
    void measureTimesTheLargestAnswerHandedOver() {
        var answer = new ResultsAnswer(MAPPER, 20, 20_000);
        List<Integer> sizes = new ArrayList<>();
        Duration took = answer.measure(bytes -> sizes.add(bytes.length));
        assertThat(sizes).hasSize(3);
        assertThat(sizes.get(0)).isBetween(10_000, 20_000);
        assertThat(sizes).containsOnly(sizes.get(0));
        assertThat(took).isPositive();
    }
}

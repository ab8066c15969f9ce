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

    /** What a result takes in the answer: its JSON, escaped as the body string holds it. */
    private static long answerBytes(JsonNode result) {
        return EscapedJson.escape(result.toString()).length;
    }

    private static HttpAnswer assemble(int limit, List<ParsedItem> items, List<Outcome<ResultsAnswer.PreparedOutput>> outcomes) {
        return new ResultsAnswer(MAPPER, 10, limit).assemble(items,
                new BatchResult<>(outcomes, summary(items.size(), 0, 0, 0, 0)), MAPPER.createObjectNode(), Set.of());
    }

    @Test
    void anOutputIsKeptOnlyIfEveryLaterResultStillFitsWithTheLongestErrorADroppedOutputCanHave() throws Exception {
        String out = "\"" + "x".repeat(1_000) + "\"";
        List<ParsedItem> items = List.of(item("a", "echo"), item("b", "echo"));
        List<Outcome<ResultsAnswer.PreparedOutput>> outcomes = List.of(output(out), output(out));
        JsonNode whole = body(assemble(9_999, items, outcomes)).get("results");
        long full = answerBytes(whole.get(0));
        assertThat(answerBytes(whole.get(1))).isEqualTo(full);
        // one byte short of both outputs: b's is dropped, and the error it gets says how large it was
        int bothKept = (int) (fixedBytes() + full + 1 + full);
        JsonNode bDropped = body(assemble(bothKept - 1, items, outcomes)).get("results").get(1);
        assertThat(bDropped.at("/error/type").asText()).isEqualTo("OutputDropped");
        // a's output is kept only while b's result fits with the longest such error: the size of any output
        String longest = bDropped.toString().replace("(" + full + " bytes)", "(" + Long.MAX_VALUE + " bytes)");
        int aKept = (int) (fixedBytes() + full + 1 + EscapedJson.escape(longest).length);
        assertThat(aKept).isBetween(1_000, 9_999); // the limits' own digits, in the messages, take the same room

        JsonNode atTheLimit = body(assemble(aKept, items, outcomes)).get("results");
        assertThat(atTheLimit.get(0).get("output").asText()).hasSize(1_000);
        assertThat(atTheLimit.get(1).at("/error/type").asText()).isEqualTo("OutputDropped");

        JsonNode oneShort = body(assemble(aKept - 1, items, outcomes)).get("results");
        assertThat(oneShort.get(0).has("output")).isFalse();
        assertThat(oneShort.get(0).at("/error/type").asText()).isEqualTo("OutputDropped");
        // a's output dropped leaves room for b's
        assertThat(oneShort.get(1).get("output").asText()).hasSize(1_000);
    }

    @Test
    void anOutputIsKeptExactlyWhenItFitsAfterWhatTheResultsBeforeItTook() throws Exception {
        String out = "\"" + "x".repeat(1_000) + "\"";
        // two results without outputs, an output no answer can carry, and the output whose place is decided
        List<ParsedItem> items = List.of(item("a", "echo"), item("b", "echo"), item("c", "echo"), item("d", "echo"));
        List<Outcome<ResultsAnswer.PreparedOutput>> outcomes = List.of(new Outcome.Rejected<>("unreadable", TIMING),
                new Outcome.NotStarted<>(Outcome.NotStarted.Reason.CUT_OFF, OptionalInt.empty()),
                output("\"" + "z".repeat(50_000) + "\""), output(out));
        JsonNode whole = body(assemble(9_999, items, outcomes)).get("results");
        assertThat(whole.get(2).at("/error/type").asText()).isEqualTo("OutputTooLarge");
        long before = 0;
        for (int i = 0; i < 3; i++) {
            before += answerBytes(whole.get(i)) + 1;
        }
        int exact = (int) (fixedBytes() + before + answerBytes(whole.get(3)));
        assertThat(exact).isBetween(1_000, 9_999);

        HttpAnswer atTheLimit = assemble(exact, items, outcomes);
        JsonNode results = body(atTheLimit).get("results");
        assertThat(results.get(2).at("/error/type").asText()).isEqualTo("OutputTooLarge");
        assertThat(results.get(3)).isEqualTo(whole.get(3));
        assertThat(atTheLimit.size()).isLessThanOrEqualTo(exact);
        JsonNode oneShort = body(assemble(exact - 1, items, outcomes)).get("results");
        assertThat(oneShort.get(3).has("output")).isFalse();
        assertThat(oneShort.get(3).at("/error/type").asText()).isEqualTo("OutputDropped");
    }

    @Test
    void anOutputThatFitsOnlyAloneIsDroppedAndRetryableNotTooLarge() throws Exception {
        String out = "\"" + "x".repeat(1_000) + "\"";
        List<ParsedItem> items = List.of(item("a", "echo"), item("b", "echo"));
        List<Outcome<ResultsAnswer.PreparedOutput>> outcomes = List.of(new Outcome.Rejected<>("unreadable", TIMING),
                output(out));
        long full = answerBytes(body(assemble(9_999, items, outcomes)).get("results").get(1));
        // the whole budget is b's result with its output: it fits in an answer of its own, not after a's
        int alone = (int) (fixedBytes() + full);

        JsonNode dropped = body(assemble(alone, items, outcomes)).get("results").get(1);
        assertThat(dropped.at("/error/type").asText()).isEqualTo("OutputDropped");
        assertThat(dropped.at("/error/retryable").asBoolean()).isTrue();
        assertThat(dropped.at("/error/message").asText()).startsWith("the item succeeded, but its result (" + full + " bytes)");

        JsonNode tooLarge = body(assemble(alone - 1, items, outcomes)).get("results").get(1);
        assertThat(tooLarge.at("/error/type").asText()).isEqualTo("OutputTooLarge");
        assertThat(tooLarge.at("/error/retryable").asBoolean()).isFalse();
    }

    @Test
    void resultsThatFillTheBudgetExactlyWithoutOutputsAreAnswered() throws Exception {
        List<ParsedItem> items = List.of(item("a", "t"));
        List<Outcome<ResultsAnswer.PreparedOutput>> outcomes = List.of(new Outcome.Rejected<>("r".repeat(300), TIMING));
        JsonNode result = body(assemble(100_000, items, outcomes)).get("results").get(0);
        int exact = (int) (fixedBytes() + answerBytes(result));

        HttpAnswer answer = assemble(exact, items, outcomes);
        assertThat(body(answer).get("results")).containsExactly(result);
        assertThat(answer.size()).isLessThanOrEqualTo(exact);
        assertThatThrownBy(() -> assemble(exact - 1, items, outcomes)).isInstanceOf(IllegalStateException.class)
                .hasMessage("the results take " + answerBytes(result) + " bytes without outputs, over " + (answerBytes(result) - 1));
    }

    @Test
    void theLogHasTheCollectorsTimeSpentWhileTheAnswerWasBuilt() {
        long[] readings = {1_000, 1_037};
        int[] read = {0};
        var answer = new ResultsAnswer(MAPPER, 10, 100_000, () -> readings[read[0]++]);
        ObjectNode log = MAPPER.createObjectNode();

        answer.assemble(List.of(item("a", "echo")), new BatchResult<>(List.of(output("1")), summary(1, 1, 0, 0, 0)), log,
                Set.of("echo"));

        assertThat(read[0]).isEqualTo(2);
        assertThat(log.get("gcMs").asLong()).isEqualTo(37);
    }

    private static long collectorsTime() {
        long total = 0;
        for (var gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            total += Math.max(0, gc.getCollectionTime()); // -1: a collector that does not count its time
        }
        return total;
    }

    @Test
    void gcMillisIsTheTimeOfAllTheCollectors() {
        // a collection, so that there is time to count (each takes a few milliseconds here)
        for (int i = 0; i < 20 && collectorsTime() <= 0; i++) {
            System.gc();
        }
        long before = collectorsTime();
        long counted = ResultsAnswer.gcMillis();
        long after = collectorsTime();
        assertThat(before).isPositive();
        assertThat(counted).isBetween(before, after);
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
    void measureTimesTheLargestAnswerHandedOver() throws Exception {
        var answer = new ResultsAnswer(MAPPER, 20, 20_000);
        List<byte[]> handed = new ArrayList<>();
        long[] longestHandOver = {0};
        long began = System.nanoTime();
        Duration took = AnswerMeasure.measure(answer, bytes -> {
            long start = System.nanoTime();
            handed.add(bytes);
            longestHandOver[0] = Math.max(longestHandOver[0], System.nanoTime() - start);
        });
        long elapsed = System.nanoTime() - began;

        assertThat(handed).hasSize(3);
        assertThat(handed).allSatisfy(bytes -> assertThat(bytes).isEqualTo(handed.get(0)));
        assertThat(handed.get(0).length).isBetween(10_000, 20_000);
        // the slowest of the three, each timed with its hand-over
        assertThat(took.toNanos()).isBetween(longestHandOver[0], elapsed);
        // as many results as a request may have, each output 2 * 20,000 / 20 characters less its JSON's 12:
        // twice the limit in all, so that some are kept and the rest dropped
        JsonNode results = MAPPER.readTree(MAPPER.readTree(handed.get(0)).get("body").asText()).get("results");
        assertThat(results).hasSize(20);
        int kept = 0;
        for (JsonNode result : results) {
            if (result.has("output")) {
                kept++;
                assertThat(result.get("output")).isEqualTo(MAPPER.createObjectNode().put("body", "x".repeat(2 * 20_000 / 20 - 12)));
            } else {
                assertThat(result.at("/error/type").asText()).isEqualTo("OutputDropped");
            }
        }
        assertThat(kept).isBetween(1, 19);
    }

    @Test
    void aPreparedOutputIsEqualByItsBytes() {
        var output = new ResultsAnswer.PreparedOutput(new byte[] { 1, 2, 3 });

        assertThat(output).isEqualTo(new ResultsAnswer.PreparedOutput(new byte[] { 1, 2, 3 }))
                .hasSameHashCodeAs(new ResultsAnswer.PreparedOutput(new byte[] { 1, 2, 3 }))
                .isNotEqualTo(new ResultsAnswer.PreparedOutput(new byte[] { 1, 2 })).hasToString("PreparedOutput[3 bytes]");
    }
}

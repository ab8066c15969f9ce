package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.TextNode;

import dev.fanout.engine.Cancellation;
import dev.fanout.engine.Outcome;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkItem;

/** An item's outcome as its JSON result: each outcome's status and error, its timing, and its copies. */
class ResultRecordTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Outcome.Timing TIMING = new Outcome.Timing(Instant.parse("2026-11-30T09:00:00.123Z"),
            Duration.ofMillis(1_234));
    private static final ParsedItem VALID = new ParsedItem.Valid(new WorkItem("item-1", "geocode", Optional.empty(),
            MAPPER.createObjectNode()));

    @Test
    void aSuccessCarriesItsOutputTypeAndTiming() {
        ResultRecord result = ResultRecord.of("m-1", VALID, new Outcome.Succeeded<>(TextNode.valueOf("out"), TIMING), 3);
        assertThat(result).isEqualTo(new ResultRecord("m-1", "item-1", "geocode", "succeeded", TextNode.valueOf("out"),
                null, 3, "2026-11-30T09:00:00.123Z", 1_234L));
        assertThat(result.batchId()).isNull();
        assertThat(result.itemIndex()).isNull();
    }

    @Test
    void aFailureNamesItsExceptionItsMessageAndWhetherARetryMayHelp() {
        assertThat(ResultRecord.of("m", VALID, new Outcome.Failed<>(new IllegalStateException("down"), true, TIMING),
                1).error()).isEqualTo(new ResultRecord.Error("IllegalStateException", "down", true));
        assertThat(ResultRecord.of("m", VALID, new Outcome.Failed<>(new IllegalStateException("bad"), false, TIMING),
                1).error()).isEqualTo(new ResultRecord.Error("IllegalStateException", "bad", false));
        // an exception without a message is named by its toString
        ResultRecord noMessage = ResultRecord.of("m", VALID, new Outcome.Failed<>(new NullPointerException(), true,
                TIMING), 1);
        assertThat(noMessage.error()).isEqualTo(new ResultRecord.Error("NullPointerException",
                "java.lang.NullPointerException", true));
        assertThat(noMessage.status()).isEqualTo("failed");
        assertThat(noMessage.output()).isNull();
    }

    @Test
    void aMalformedRecordIsRejectedWithoutAType() {
        var malformed = new ParsedItem.Malformed("m-9", Optional.empty(), "body is empty");
        ResultRecord result = ResultRecord.of("m-9", malformed, new Outcome.Rejected<>("body is empty", TIMING), null);
        assertThat(result).isEqualTo(new ResultRecord("m-9", "m-9", null, "rejected", null,
                new ResultRecord.Error("Rejected", "body is empty", false), null, "2026-11-30T09:00:00.123Z", 1_234L));
    }

    @Test
    void aTimeOutSaysWhichLimitCameFirst() {
        assertThat(ResultRecord.of("m", VALID, new Outcome.TimedOut<>(Cancellation.Cause.CUT_OFF, TIMING), 1).error())
                .isEqualTo(new ResultRecord.Error("TimedOut", "cancelled at the invocation's cut-off", true));
        ResultRecord itemTimeout = ResultRecord.of("m", VALID, new Outcome.TimedOut<>(Cancellation.Cause.ITEM_TIMEOUT,
                TIMING), 1);
        assertThat(itemTimeout.error()).isEqualTo(new ResultRecord.Error("TimedOut", "cancelled at its item timeout",
                true));
        assertThat(itemTimeout.status()).isEqualTo("timed_out");
    }

    @Test
    void anItemNotStartedHasNoTimingAndSaysWhy() {
        ResultRecord cutOff = ResultRecord.of("m", VALID,
                new Outcome.NotStarted<>(Outcome.NotStarted.Reason.CUT_OFF, OptionalInt.empty()), 2);
        assertThat(cutOff).isEqualTo(new ResultRecord("m", "item-1", "geocode", "not_started", null,
                new ResultRecord.Error("NotStarted", "the invocation's cut-off came first", true), 2, null, null));
        assertThat(ResultRecord.of("m", VALID,
                new Outcome.NotStarted<>(Outcome.NotStarted.Reason.GROUP_HALTED, OptionalInt.of(0)), 2).error())
                .isEqualTo(new ResultRecord.Error("NotStarted", "an earlier item of its group did not succeed", true));
    }

    @Test
    void withErrorKeepsTheRecordButDropsTheOutput() {
        ResultRecord result = ResultRecord.of("m-1", VALID, new Outcome.Succeeded<>(TextNode.valueOf("out"), TIMING), 3)
                .inBatch("b-1", 4);
        assertThat(result.withError("OutputTooLarge", "too big")).isEqualTo(new ResultRecord("m-1", "item-1", "geocode",
                "failed", null, new ResultRecord.Error("OutputTooLarge", "too big", false), 3,
                "2026-11-30T09:00:00.123Z", 1_234L, "b-1", 4));
    }

    @Test
    void inBatchMarksTheSameRecordWithItsBatchAndIndex() {
        var error = new ResultRecord.Error("X", "y", true);
        var result = new ResultRecord("m", "i", "t", "failed", null, error, 5, "s", 7L);
        assertThat(result.inBatch("b", 2)).isEqualTo(new ResultRecord("m", "i", "t", "failed", null, error, 5, "s", 7L,
                "b", 2));
    }

    @Test
    void theJsonLeavesAbsentFieldsOut() throws Exception {
        JsonNode json = MAPPER.valueToTree(ResultRecord.of(null, VALID,
                new Outcome.NotStarted<>(Outcome.NotStarted.Reason.CUT_OFF, OptionalInt.empty()), null));
        assertThat(json).isEqualTo(MAPPER.readTree("{\"itemId\":\"item-1\",\"type\":\"geocode\",\"status\":\"not_started\","
                + "\"error\":{\"type\":\"NotStarted\",\"message\":\"the invocation's cut-off came first\","
                + "\"retryable\":true}}"));
    }
}

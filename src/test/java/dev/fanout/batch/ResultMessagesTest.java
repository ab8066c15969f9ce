package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.POJONode;
import com.fasterxml.jackson.databind.node.TextNode;

import dev.fanout.fanin.ResultMessage;

/** A result as a results-queue message: body, attributes, FIFO keys, and what stands in for it when it cannot go. */
class ResultMessagesTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ResultMessages MESSAGES = new ResultMessages(MAPPER);

    private static ResultRecord succeeded(String sourceMessageId) {
        return new ResultRecord(sourceMessageId, "item-1", "echo", "succeeded", TextNode.valueOf("big output"), null, 2,
                null, null);
    }

    @Test
    void aResultsMessageCarriesItsStatusTraceAndKeys() throws Exception {
        ResultMessage message = MESSAGES.message(succeeded("m-1"), new ResultMessages.FifoKeys("g", "d"),
                Optional.of("Root=1-x"));
        assertThat(MAPPER.readTree(message.body())).isEqualTo(MAPPER.readTree(
                "{\"sourceMessageId\":\"m-1\",\"itemId\":\"item-1\",\"type\":\"echo\",\"status\":\"succeeded\","
                        + "\"output\":\"big output\",\"attempt\":2}"));
        assertThat(message.attributes()).isEqualTo(Map.of("status", "succeeded", "traceId", "Root=1-x"));
        assertThat(message.groupId()).contains("g");
        assertThat(message.deduplicationId()).contains("d");

        ResultMessage standard = MESSAGES.message(succeeded("m-1"), null, Optional.empty());
        assertThat(standard.groupId()).isEmpty();
        assertThat(standard.deduplicationId()).isEmpty();
        assertThat(standard.attributes()).isEqualTo(Map.of("status", "succeeded"));
    }

    @Test
    void overTheLimitTheSameResultGoesWithoutItsOutput() throws Exception {
        ResultMessage message = MESSAGES.message(succeeded("m-1").inBatch("b-1", 5), null, Optional.of("Root=1-x"));

        ResultMessage.Substitute smaller = message.substitution().orElseThrow().withinLimit(300_000, 262_144).orElseThrow();

        JsonNode body = MAPPER.readTree(smaller.body());
        assertThat(body).isEqualTo(MAPPER.createObjectNode().put("sourceMessageId", "m-1").put("itemId", "item-1")
                .put("type", "echo").put("status", "failed").<com.fasterxml.jackson.databind.node.ObjectNode>set("error",
                        MAPPER.createObjectNode().put("type", "OutputTooLarge").put("message",
                                "the result is 300000 bytes, more than the results queue's 262144-byte message limit;"
                                        + " the output was dropped, not truncated").put("retryable", false))
                .put("attempt", 2).put("batchId", "b-1").put("itemIndex", 5));
        assertThat(smaller.attributes()).isEqualTo(Map.of("status", "failed", "traceId", "Root=1-x",
                QueuedBatch.BATCH_ID_ATTRIBUTE, "b-1", QueuedBatch.ITEM_INDEX_ATTRIBUTE, "5"));
    }

    @Test
    void aRefusedResultIsReplacedByTheMinimalErrorResultWhenItNamesItsRecord() {
        ResultMessage message = MESSAGES.message(succeeded("m-1"), null, Optional.empty());
        assertThat(message.substitution().orElseThrow().refused("InvalidMessageContents")).contains(
                new ResultMessage.Substitute(RefusedResult.body("m-1", "InvalidMessageContents"),
                        Map.of("status", "failed")));

        ResultMessage anonymous = MESSAGES.message(succeeded(null), null, Optional.empty());
        assertThat(anonymous.substitution().orElseThrow().refused("InvalidMessageContents")).isEmpty();
    }

    @Test
    void aBareRecordIdsStandInIsTheMinimalErrorResultAndHasNoSmallerForm() {
        ResultMessage.Substitution substitution = ResultMessages.substitution("m-7");
        assertThat(substitution.refused("too big")).contains(new ResultMessage.Substitute(RefusedResult.body("m-7",
                "too big"), Map.of("status", "failed")));
        assertThat(substitution.withinLimit(1, 0)).isEmpty();
    }

    @Test
    void anUnwritableOutputBecomesAnErrorResultNotAFailedBatch() throws Exception {
        var result = new ResultRecord("m-1", "item-1", "echo", "succeeded", new POJONode(new Object()), null, 1,
                null, null);

        ResultMessage message = MESSAGES.message(result, null, Optional.empty());

        JsonNode body = MAPPER.readTree(message.body());
        assertThat(body.get("sourceMessageId").asText()).isEqualTo("m-1");
        assertThat(body.get("status").asText()).isEqualTo("failed");
        assertThat(body.has("output")).isFalse();
        assertThat(body.at("/error/type").asText()).isEqualTo("OutputNotWritable");
        assertThat(body.at("/error/message").asText()).startsWith("the result could not be written as JSON: No serializer found for class java.lang.Object");
        assertThat(message.attributes()).isEqualTo(Map.of("status", "failed"));
    }
}

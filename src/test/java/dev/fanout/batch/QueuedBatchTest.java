package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.engine.Deadline;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.testing.RecordingQueue;

/** Queued mode: which items go to the work queue, with what keys, and the receipt of what became of each. */
class QueuedBatchTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static List<JsonNode> items(String... json) throws Exception {
        List<JsonNode> items = new ArrayList<>();
        for (String text : json) {
            items.add(MAPPER.readTree(text));
        }
        return items;
    }

    @Test
    void queuesTheItemsNotRefusedAndSaysWhatBecameOfEach() throws Exception {
        var queue = new RecordingQueue(1);
        List<JsonNode> items = items("{\"type\":\"a\"}", "[1]", "{\"type\":\"b\"}", "{\"type\":\"c\"}");
        List<String> refusals = Arrays.asList(null, "item must be a JSON object, was an array", null, null);

        QueuedBatch.Receipt receipt = new QueuedBatch(queue, false).queue(items,
                List.of(Optional.empty(), Optional.empty(), Optional.of("g"), Optional.empty()), refusals,
                Deadline.after(Duration.ofSeconds(10)));

        String batchId = receipt.batchId();
        assertThat(batchId).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(queue.calls()).hasSize(1);
        List<ResultMessage> sent = queue.calls().get(0);
        assertThat(sent).extracting(ResultMessage::body).containsExactly("{\"type\":\"a\"}", "{\"type\":\"b\"}",
                "{\"type\":\"c\"}");
        assertThat(sent.get(1).attributes()).isEqualTo(Map.of(QueuedBatch.BATCH_ID_ATTRIBUTE, batchId,
                QueuedBatch.ITEM_INDEX_ATTRIBUTE, "2"));
        assertThat(sent.get(2).attributes()).isEqualTo(Map.of(QueuedBatch.BATCH_ID_ATTRIBUTE, batchId,
                QueuedBatch.ITEM_INDEX_ATTRIBUTE, "3"));
        // a standard work queue: no group, no deduplication id
        assertThat(sent).allSatisfy(message -> {
            assertThat(message.groupId()).isEmpty();
            assertThat(message.deduplicationId()).isEmpty();
        });

        // the message at position 1 (item 2) was not taken
        assertThat(receipt.entries()).containsExactly(new QueuedBatch.Entry(0, "msg-0", null, false),
                new QueuedBatch.Entry(1, null, "item must be a JSON object, was an array", false),
                new QueuedBatch.Entry(2, null, "not queued: throttled at 1", true),
                new QueuedBatch.Entry(3, "msg-2", null, false));
        assertThat(receipt.queued()).isEqualTo(2);
        assertThat(receipt.requests()).isEqualTo(4);
        assertThat(receipt.retries()).isEqualTo(3);
        assertThat(receipt.entries().get(0).queued()).isTrue();
        assertThat(receipt.entries().get(2).queued()).isFalse();
    }

    @Test
    void aFifoWorkQueueGetsTheItemsGroupOrOneOfItsOwnAndADeduplicationIdPerItem() throws Exception {
        var queue = new RecordingQueue();
        QueuedBatch.Receipt receipt = new QueuedBatch(queue, true).queue(items("{}", "{}"),
                List.of(Optional.of("customer-4"), Optional.empty()), Arrays.asList(null, null),
                Deadline.after(Duration.ofSeconds(10)));

        List<ResultMessage> sent = queue.calls().get(0);
        String batchId = receipt.batchId();
        assertThat(sent.get(0).groupId()).contains("customer-4");
        assertThat(sent.get(0).deduplicationId()).contains(batchId + "-0");
        assertThat(sent.get(1).groupId()).contains(batchId + "-1");
        assertThat(sent.get(1).deduplicationId()).contains(batchId + "-1");
        assertThat(receipt.queued()).isEqualTo(2);
    }

    @Test
    void nothingToQueueSendsNothing() throws Exception {
        var queue = new RecordingQueue();
        QueuedBatch.Receipt receipt = new QueuedBatch(queue, false).queue(items("1", "2"),
                List.of(Optional.empty(), Optional.empty()), List.of("not an object", "not an object either"),
                Deadline.after(Duration.ofSeconds(10)));

        assertThat(queue.calls()).isEmpty();
        assertThat(receipt.entries()).containsExactly(new QueuedBatch.Entry(0, null, "not an object", false),
                new QueuedBatch.Entry(1, null, "not an object either", false));
        assertThat(receipt.queued()).isZero();
        assertThat(receipt.requests()).isZero();
        assertThat(receipt.retries()).isZero();
    }

    @Test
    void eachBatchHasAnIdOfItsOwn() throws Exception {
        var queued = new QueuedBatch(new RecordingQueue(), false);
        var deadline = Deadline.after(Duration.ofSeconds(10));
        String first = queued.queue(items("{}"), List.of(Optional.empty()), Arrays.asList((String) null), deadline)
                .batchId();
        String second = queued.queue(items("{}"), List.of(Optional.empty()), Arrays.asList((String) null), deadline)
                .batchId();
        assertThat(first).isNotEqualTo(second);
    }

    @Test
    void aWorkQueueThatIsNotSqsHasNothingToWarm() {
        assertThat(new QueuedBatch(new RecordingQueue(), false).warmUp()).isEqualTo("not an SQS queue");
    }

    @Test
    void aResultIsTaggedWithItsBatchAndANumericIndexOnly() {
        var result = new ResultRecord("m", "i", "t", "succeeded", null, null, 1, null, null);
        assertThat(QueuedBatch.tag(result, null, "3")).isSameAs(result);
        assertThat(QueuedBatch.tag(result, "b", "3")).isEqualTo(result.inBatch("b", 3));
        assertThat(QueuedBatch.tag(result, "b", "x")).isEqualTo(result.inBatch("b", null));
        assertThat(QueuedBatch.tag(result, "b", null)).isEqualTo(result.inBatch("b", null));

        Map<String, String> base = Map.of("status", "succeeded");
        assertThat(QueuedBatch.attributes(result, base)).isSameAs(base);
        assertThat(QueuedBatch.attributes(result.inBatch("b", 3), base)).isEqualTo(Map.of("status", "succeeded",
                QueuedBatch.BATCH_ID_ATTRIBUTE, "b", QueuedBatch.ITEM_INDEX_ATTRIBUTE, "3"));
        assertThat(QueuedBatch.attributes(result.inBatch("b", null), base)).isEqualTo(Map.of("status", "succeeded",
                QueuedBatch.BATCH_ID_ATTRIBUTE, "b"));
    }
}

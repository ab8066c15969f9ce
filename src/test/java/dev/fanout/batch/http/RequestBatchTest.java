package dev.fanout.batch.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.QueuedBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.fanin.ResultsSink;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.testing.RecordingQueue;
import dev.fanout.work.ParsedItem;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.WorkItem;

/**
 * A request's batch in queued mode, against a work queue in memory that takes or refuses each message: the
 * limit on queued items, the refusal of an item larger than a message, a request of which nothing could be
 * queued, and the figures in the answer's log.
 */
class RequestBatchTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ItemFunctions HANDLERS = TestFunctions.builder(MAPPER).register("echo", (payload, ctx) -> payload).build();
    private static final int MAX_QUEUED = 3;

    private static RequestBatch batch(Optional<ResultsSink> workQueue) {
        return new RequestBatch(new WorkerPool(Limits.of(4).withCutoffMargin(Duration.ofMillis(300))), HANDLERS, MAPPER,
                new RequestBatch.Settings(Duration.ofSeconds(29), 2, 100_000, MAX_QUEUED),
                workQueue.map(queue -> new QueuedBatch(queue, false)));
    }

    private static JsonNode node(String json) {
        try {
            return MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static ParsedItem valid(JsonNode node) {
        return new ParsedItem.Valid(new WorkItem("", node.path("type").asText(), Optional.empty(), node.path("payload")));
    }

    /** The request's items, each {@code {"type":"echo","payload":{"n":i}}}. */
    private static List<JsonNode> echoes(int count) {
        List<JsonNode> nodes = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            nodes.add(node("{\"type\":\"echo\",\"payload\":{\"n\":" + i + "}}"));
        }
        return nodes;
    }

    private static HttpAnswer queue(RequestBatch batch, List<JsonNode> nodes, List<ParsedItem> items, ObjectNode log) {
        return batch.answer(nodes, items, true, Deadline.after(Duration.ofSeconds(10)), log);
    }

    private static HttpAnswer queue(RequestBatch batch, List<JsonNode> nodes, ObjectNode log) {
        return queue(batch, nodes, nodes.stream().map(RequestBatchTest::valid).toList(), log);
    }

    private static JsonNode body(HttpAnswer answer) throws Exception {
        assertThat(answer.status()).isEqualTo(202);
        return MAPPER.readTree(MAPPER.readTree(answer.bytes()).get("body").asText());
    }

    @Test
    void aRequestOfExactlyTheMostQueuedItemsIsQueuedAndOneMoreIsTooMany() throws Exception {
        var queue = new RecordingQueue();
        RequestBatch batch = batch(Optional.of(queue));

        JsonNode answer = body(queue(batch, echoes(MAX_QUEUED), MAPPER.createObjectNode()));
        assertThat(answer.get("queued").asInt()).isEqualTo(MAX_QUEUED);
        assertThat(queue.calls()).hasSize(1);

        Problem tooMany = catchThrowableOfType(Problem.class, () -> queue(batch, echoes(MAX_QUEUED + 1), MAPPER.createObjectNode()));
        assertThat(tooMany.status).isEqualTo(413);
        assertThat(tooMany.detail).isEqualTo("a request queues at most 3 items, this one has 4");
        assertThat(queue.calls()).hasSize(1);
    }

    @Test
    void theLogCountsTheItemsQueuedAndNotQueuedAndTheSendsItTook() throws Exception {
        RequestBatch batch = batch(Optional.of(new RecordingQueue(1)));
        ObjectNode log = MAPPER.createObjectNode();

        JsonNode answer = body(queue(batch, echoes(3), log));

        assertThat(answer.get("queued").asInt()).isEqualTo(2);
        assertThat(answer.get("notQueued").asInt()).isEqualTo(1);
        assertThat(answer.at("/items/1")).isEqualTo(MAPPER.createObjectNode().put("index", 1)
                .put("reason", "not queued: throttled at 1").put("retryable", true));
        assertThat(log).isEqualTo(MAPPER.createObjectNode().put("items", 3).put("batchId", answer.get("batchId").asText())
                .put("queued", 2).put("notQueued", 1).put("sendRequests", 4).put("sendRetries", 3));
    }

    @Test
    void aRequestOfWhichNoItemCouldBeQueuedIsAProblemNamingTheFirstItemsReason() {
        RequestBatch batch = batch(Optional.of(new RecordingQueue(0, 1)));
        ObjectNode log = MAPPER.createObjectNode();

        Problem none = catchThrowableOfType(Problem.class, () -> queue(batch, echoes(2), log));

        assertThat(none.status).isEqualTo(503);
        assertThat(none.kind).isEqualTo("not-queued");
        assertThat(none.detail).isEqualTo("none of the 2 items could be queued; item 0: not queued: throttled at 0");
        assertThat(log.get("queued").asInt()).isZero();
        assertThat(log.get("notQueued").asInt()).isEqualTo(2);
    }

    @Test
    void aRequestWithoutItemsThatAsksToBeQueuedIsAProblemThatSaysSo() {
        var queue = new RecordingQueue();
        RequestBatch batch = batch(Optional.of(queue));

        Problem none = catchThrowableOfType(Problem.class, () -> queue(batch, List.of(), MAPPER.createObjectNode()));

        assertThat(none.kind).isEqualTo("not-queued");
        assertThat(none.detail).isEqualTo("none of the 0 items could be queued; the request has no items");
        assertThat(queue.calls()).isEmpty();
    }

    /** An echo item whose JSON takes exactly {@code bytes} bytes. */
    private static JsonNode itemOf(int bytes) {
        String frame = "{\"type\":\"echo\",\"payload\":{\"data\":\"\"}}";
        JsonNode node = node(frame.replace("\"\"}}", "\"" + "d".repeat(bytes - frame.length()) + "\"}}"));
        assertThat(node.toString().getBytes(StandardCharsets.UTF_8)).hasSize(bytes);
        return node;
    }

    @Test
    void anItemOfExactlyAnSqsMessageIsQueuedAndOneByteMoreIsRefused() throws Exception {
        var queue = new RecordingQueue();
        RequestBatch batch = batch(Optional.of(queue));
        List<JsonNode> nodes = List.of(itemOf(SqsResultsSink.SQS_MAX_BYTES), itemOf(SqsResultsSink.SQS_MAX_BYTES + 1));

        JsonNode answer = body(queue(batch, nodes, MAPPER.createObjectNode()));

        assertThat(answer.at("/items/0/messageId").asText()).isEqualTo("msg-0");
        assertThat(answer.at("/items/1")).isEqualTo(MAPPER.createObjectNode().put("index", 1)
                .put("reason", "rejected: the item is larger than an SQS message (1048576 bytes)").put("retryable", false));
        assertThat(queue.calls().getFirst()).extracting(ResultMessage::body).containsExactly(nodes.getFirst().toString());
    }

    @Test
    void warmUpSaysHowTheWorkQueueAnsweredAndIsEmptyWithoutOne() {
        assertThat(batch(Optional.of(new RecordingQueue())).warmUp()).contains("not an SQS queue");
        assertThat(batch(Optional.empty()).warmUp()).isEmpty();
    }

    @Test
    void theAnswersWriterHoldsTheSettingsSynchronousLimit() {
        RequestBatch batch = batch(Optional.empty());
        List<ParsedItem> three = echoes(3).stream().map(RequestBatchTest::valid).toList();

        assertThat(batch.settings().maxItems()).isEqualTo(2);
        assertThat(batch.results().overSynchronousLimits(three))
                .isEqualTo("a request runs at most 2 items synchronously, this one has 3");
    }
}

package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.WorkerPool;
import dev.fanout.work.ParsedItem;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.WorkItem;

/**
 * Which outcomes let a FIFO group go on, decided in the batch layer for each entry point and carried out by the
 * engine: queue records go on after a final outcome and stop at one that comes back; an HTTP request's group
 * stops at its first item that does not succeed.
 */
class GroupPolicyTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final ItemFunctions HANDLERS = TestFunctions.builder(MAPPER)
            .register("ok", (payload, ctx) -> Map.of("ok", true))
            .register("fails-for-good", (payload, ctx) -> {
                throw new NonRetryableException("for good");
            })
            .register("fails-for-now", (payload, ctx) -> {
                throw new IllegalStateException("for now");
            })
            .build();

    static ParsedItem item(String id, String type) {
        return new ParsedItem.Valid(new WorkItem(id, type, Optional.of("g"), MAPPER.createObjectNode()));
    }

    static List<Outcome.Status> run(List<ParsedItem> items, boolean records) {
        var batch = records ? RecordRules.recordBatch(items) : RecordRules.requestBatch(items);
        BatchResult<JsonNode> run = new WorkerPool(Limits.of(4)).run(batch, HANDLERS.dispatcher(),
                Deadline.after(Duration.ofSeconds(30)));
        return run.outcomes().stream().map(Outcome::status).toList();
    }

    @Test
    void queueRecordsGoOnAfterARejectedAndAPermanentlyFailedRecord() {
        List<ParsedItem> items = List.of(new ParsedItem.Malformed("a", Optional.of("g"), "not JSON"),
                item("b", "fails-for-good"), item("c", "ok"));

        assertThat(run(items, true)).containsExactly(Outcome.Status.REJECTED, Outcome.Status.FAILED,
                Outcome.Status.SUCCEEDED);
    }

    @Test
    void queueRecordsStopAtARecordThatComesBack() {
        List<ParsedItem> items = List.of(item("a", "fails-for-now"), item("b", "ok"));

        assertThat(run(items, true)).containsExactly(Outcome.Status.FAILED, Outcome.Status.NOT_STARTED);
    }

    @Test
    void anHttpRequestsGroupStopsAtItsFirstItemThatDoesNotSucceed() {
        assertThat(run(List.of(new ParsedItem.Malformed("a", Optional.of("g"), "not JSON"), item("b", "ok")), false))
                .containsExactly(Outcome.Status.REJECTED, Outcome.Status.NOT_STARTED);
        assertThat(run(List.of(item("a", "fails-for-good"), item("b", "ok")), false))
                .containsExactly(Outcome.Status.FAILED, Outcome.Status.NOT_STARTED);
    }
}

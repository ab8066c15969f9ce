package dev.fanout.work;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;

import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.WorkerPool;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.limits.LimitAlgorithm;
import dev.fanout.work.limits.LimitSettings;
import dev.fanout.work.limits.Permit;
import dev.fanout.work.limits.ServiceLimits;

/** A function of the user's own takes permits of a service it names, under the same rules as http items. */
class WorkContextPermitTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    static List<ParsedItem> items(String type, int n) {
        List<ParsedItem> items = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            items.add(new ParsedItem.Valid(new WorkItem("i" + i, type, Optional.empty(), NullNode.getInstance())));
        }
        return items;
    }

    @Test
    void itemsBeyondTheServicesLimitWaitAndThoseWithoutAPermitAtTheCutOffAreNotStarted() {
        // a limit of 1 that cannot move: one item holds the permit until the cut-off
        var limits = new ServiceLimits(new LimitSettings(true, LimitAlgorithm.AIMD, 1, 1, 1, 4));
        var holding = new AtomicInteger();
        ItemFunctions functions = TestFunctions.builder(MAPPER).serviceLimits(limits).register("db", (payload, item) -> {
            try (Permit permit = item.permit("orders-db")) {
                assertThat(holding.incrementAndGet()).isEqualTo(1);
                new CountDownLatch(1).await(); // the database never answers
                permit.success();
                return null;
            }
        }).build();

        BatchResult<JsonNode> result = new WorkerPool(Limits.of(4)).run(Batch.of(items("db", 4)),
                functions.dispatcher(), Deadline.after(Duration.ofSeconds(1)));

        assertThat(result.outcomes()).filteredOn(o -> o.status() == Outcome.Status.TIMED_OUT).hasSize(1);
        assertThat(result.outcomes()).filteredOn(o -> o.status() == Outcome.Status.NOT_STARTED)
                .containsOnly(new Outcome.NotStarted<>(Outcome.NotStarted.Reason.NOT_ADMITTED, OptionalInt.empty()))
                .hasSize(3);
    }

    @Test
    void aPermitThatIsReportedLetsTheNextItemIn() throws Exception {
        var limits = new ServiceLimits(new LimitSettings(true, LimitAlgorithm.AIMD, 1, 1, 1, 4));
        var inside = new AtomicInteger();
        var most = new AtomicInteger();
        ItemFunctions functions = TestFunctions.builder(MAPPER).serviceLimits(limits).register("db", (payload, item) -> {
            try (Permit permit = item.permit("orders-db")) {
                most.accumulateAndGet(inside.incrementAndGet(), Math::max);
                inside.decrementAndGet();
                permit.success();
                return item.id();
            }
        }).build();

        BatchResult<JsonNode> result = new WorkerPool(Limits.of(8)).run(Batch.of(items("db", 50)),
                functions.dispatcher(), Deadline.after(Duration.ofSeconds(20)));

        assertThat(result.outcomes()).allMatch(Outcome::isSuccess);
        assertThat(most.get()).isEqualTo(1);
        assertThat(limits.report().services().getFirst().service()).isEqualTo("orders-db");
    }

    @Test
    void aBlankServiceNameIsRefused() {
        ItemFunctions functions = TestFunctions.builder(MAPPER).register("db", (payload, item) -> item.permit(" "))
                .build();

        BatchResult<JsonNode> result = new WorkerPool(Limits.of(1)).run(Batch.of(items("db", 1)),
                functions.dispatcher(), Deadline.after(Duration.ofSeconds(5)));

        assertThat(result.outcome(0)).isInstanceOfSatisfying(Outcome.Failed.class,
                f -> assertThat(f.error()).hasMessage("a service's name must not be blank"));
    }
}

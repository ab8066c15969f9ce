package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.engine.Cancellation;
import dev.fanout.engine.Outcome;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkItem;

class SummaryFiguresTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void typesCountOnlyWhenRegisteredSoUserInputCannotAddMetrics() {
        List<ParsedItem> items = List.of(valid("digest"), valid("digest"), valid("delay"), valid("made-up-1"),
                valid("made-up-2"), new ParsedItem.Malformed("m", Optional.empty(), "not JSON"));
        Outcome.Timing timing = new Outcome.Timing(Instant.EPOCH, Duration.ZERO);
        List<Outcome<?>> outcomes = List.of(new Outcome.Succeeded<>("x", timing),
                new Outcome.Failed<>(new IllegalStateException("boom"), true, timing),
                new Outcome.TimedOut<>(Cancellation.Cause.CUT_OFF, timing),
                new Outcome.Rejected<>("no handler", timing), new Outcome.Rejected<>("no handler", timing), new Outcome.Rejected<>("bad", timing));
        ObjectNode summary = MAPPER.createObjectNode();

        SummaryFigures.countByType(summary, items, outcomes::get, Set.of("digest", "delay", "http"));

        assertThat(summary.toString()).isEqualTo("{\"items.delay\":1,\"failures.delay\":1,\"items.digest\":2,"
                + "\"failures.digest\":1,\"items.other\":3,\"failures.other\":3}");
    }

    static ParsedItem valid(String type) {
        return new ParsedItem.Valid(new WorkItem("id-" + type, type, Optional.empty(), MAPPER.createObjectNode()));
    }
}

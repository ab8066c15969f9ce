package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.engine.Deadline;
import dev.fanout.engine.Slot;
import dev.fanout.work.limits.LimitAlgorithm;
import dev.fanout.work.limits.LimitSettings;
import dev.fanout.work.limits.ServiceLimits;

class LimitMetricsTest {

    final ServiceLimits limits = new ServiceLimits(new LimitSettings(true, LimitAlgorithm.AIMD, 10, 2, 100, 16));

    @Test
    void anInvocationThatTookPermitsCarriesTheLimitsFiguresAsMetricsWithoutAServiceDimension() throws Exception {
        for (int i = 0; i < 3; i++) {
            limits.acquire("https://a.example:443", Slot.HELD, Deadline.after(Duration.ofSeconds(5)), true).success();
        }
        for (int i = 0; i < 200; i++) {
            limits.acquire("https://b.example:443", Slot.HELD, Deadline.after(Duration.ofSeconds(5)), true).dropped();
        }
        ObjectNode summary = JsonNodeFactory.instance.objectNode();

        LimitMetrics.add(summary, limits);

        assertThat(summary.get("limitLowest").asInt()).isEqualTo(2);
        assertThat(summary.get("limitHighest").asInt()).isEqualTo(10);
        assertThat(summary.get("limitedServices").asInt()).isEqualTo(2);
        assertThat(summary.get("permitsWaited").asInt()).isZero();
        ObjectNode event = InvocationMetrics.emf(summary, "fn", "sqs", 0);
        JsonNode directive = event.at("/_aws/CloudWatchMetrics/0");
        assertThat(directive.get("Metrics").findValuesAsText("Name")).contains("limitLowest", "limitHighest",
                "limitedServices", "permitsWaited");
        assertThat(directive.get("Metrics").findValuesAsText("Unit")).containsOnly("Count");
        assertThat(directive.get("Dimensions").toString()).isEqualTo("[[\"FunctionName\",\"EntryPoint\"]]");
    }

    @Test
    void anInvocationThatTookNoPermitCarriesNothingOfThem() throws Exception {
        limits.acquire("https://a.example:443", Slot.HELD, Deadline.after(Duration.ofSeconds(5)), true).success();
        LimitMetrics.add(JsonNodeFactory.instance.objectNode(), limits); // the previous invocation's

        ObjectNode summary = JsonNodeFactory.instance.objectNode();
        LimitMetrics.add(summary, limits);
        LimitMetrics.add(summary, ServiceLimits.DISABLED);

        assertThat(summary.isEmpty()).isTrue();
    }
}

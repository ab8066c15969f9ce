package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.SummaryFigures;
import dev.fanout.testing.EmfSpecification;

class InvocationMetricsTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    static List<String> declared(JsonNode emf) {
        List<String> names = new ArrayList<>();
        emf.at("/_aws/CloudWatchMetrics/0/Metrics").forEach(m -> names.add(m.get("Name").asText()));
        return names;
    }

    @Test
    void aSummaryBecomesAnEmfEventThatDeclaresItsKnownNumbersAsMetrics() throws Exception {
        ObjectNode summary = MAPPER.createObjectNode().put("event", "fanout.sqs").put("records", 3).put("succeeded", 2)
                .put("engineMs", 41).put("fifo", false).put("someFutureFigure", 7).put("items.digest", 3);

        ObjectNode emf = InvocationMetrics.emf(summary, "fanout-SqsFunction-1", "sqs", 1_764_480_000_000L);

        assertThat(EmfSpecification.violations(emf.toString())).isEmpty();
        assertThat(declared(emf)).containsExactly("records", "succeeded", "engineMs", "items.digest");
        assertThat(emf.at("/_aws/CloudWatchMetrics/0/Metrics").toString()).isEqualTo(
                "[{\"Name\":\"records\",\"Unit\":\"Count\"},{\"Name\":\"succeeded\",\"Unit\":\"Count\"},"
                        + "{\"Name\":\"engineMs\",\"Unit\":\"Milliseconds\"},{\"Name\":\"items.digest\",\"Unit\":\"Count\"}]");
        assertThat(emf.at("/_aws/Timestamp").asLong()).isEqualTo(1_764_480_000_000L);
        assertThat(emf.at("/_aws/CloudWatchMetrics/0/Namespace").asText()).isEqualTo("Fanout");
        assertThat(emf.get("FunctionName").asText()).isEqualTo("fanout-SqsFunction-1");
        assertThat(emf.get("EntryPoint").asText()).isEqualTo("sqs");
        // not metrics, still there for Logs Insights
        assertThat(emf.get("event").asText()).isEqualTo("fanout.sqs");
        assertThat(emf.get("someFutureFigure").asInt()).isEqualTo(7);
    }

    @Test
    void theRedeliveryFiguresAreCountsAndSeconds() {
        ObjectNode summary = MAPPER.createObjectNode().put("recordsDelayed", 3).put("recordsNotDelayed", 1)
                .put("visibilityRequests", 1).put("visibilityFailures", 1).put("redeliveryFaults", 0)
                .put("delayMinSeconds", 2).put("delayMaxSeconds", 40);

        ObjectNode emf = InvocationMetrics.emf(summary, "f", "sqs", 1L);

        assertThat(EmfSpecification.violations(emf.toString())).isEmpty();
        assertThat(emf.at("/_aws/CloudWatchMetrics/0/Metrics").toString()).isEqualTo(
                "[{\"Name\":\"recordsDelayed\",\"Unit\":\"Count\"},{\"Name\":\"recordsNotDelayed\",\"Unit\":\"Count\"},"
                        + "{\"Name\":\"visibilityRequests\",\"Unit\":\"Count\"},{\"Name\":\"visibilityFailures\",\"Unit\":\"Count\"},"
                        + "{\"Name\":\"redeliveryFaults\",\"Unit\":\"Count\"},{\"Name\":\"delayMinSeconds\",\"Unit\":\"Seconds\"},"
                        + "{\"Name\":\"delayMaxSeconds\",\"Unit\":\"Seconds\"}]");
    }

    @Test
    void anHttpStatusCountsOneAnswerOfItsClass() {
        for (int[] statusAndClass : new int[][] { { 200, 2 }, { 413, 4 }, { 503, 5 } }) {
            ObjectNode emf = InvocationMetrics.emf(MAPPER.createObjectNode().put("status", statusAndClass[0]), "f", "http", 1L);
            assertThat(List.of(emf.get("answers2xx").asInt(), emf.get("answers4xx").asInt(), emf.get("answers5xx").asInt()))
                    .as("status %d", statusAndClass[0])
                    .containsExactly(statusAndClass[1] == 2 ? 1 : 0, statusAndClass[1] == 4 ? 1 : 0, statusAndClass[1] == 5 ? 1 : 0);
            assertThat(declared(emf)).containsExactly("answers2xx", "answers4xx", "answers5xx");
        }
    }

    @Test
    void noMoreThanTheSpecificationsHundredMetrics() {
        ObjectNode summary = MAPPER.createObjectNode();
        for (int i = 0; i < 150; i++) {
            summary.put(SummaryFigures.TYPE_ITEMS + "t" + i, i);
        }
        ObjectNode emf = InvocationMetrics.emf(summary, "f", "sqs", 1L);
        assertThat(declared(emf)).hasSize(InvocationMetrics.MAX_METRICS);
        assertThat(EmfSpecification.violations(emf.toString())).isEmpty();
    }

    @Test
    void theEventIsLoggedAloneAtInfoEvenWhenTheRootLogsOnlyWarnings() throws Exception {
        var root = java.util.logging.Logger.getLogger("");
        var metricsLogger = java.util.logging.Logger.getLogger(InvocationMetrics.LOGGER);
        var level = root.getLevel();
        List<String> messages = new java.util.concurrent.CopyOnWriteArrayList<>();
        var capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                messages.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        root.setLevel(java.util.logging.Level.WARNING);
        try {
            InvocationMetrics.log(MAPPER.createObjectNode().put("records", 1), "sqs");
            metricsLogger.addHandler(capture);
            InvocationMetrics.log(MAPPER.createObjectNode().put("records", 2), "sqs");
        } finally {
            metricsLogger.removeHandler(capture);
            root.setLevel(level);
        }
        assertThat(messages).hasSize(1);
        assertThat(EmfSpecification.violations(messages.get(0))).isEmpty();
        assertThat(EmfSpecification.parse(messages.get(0)).get("records").asInt()).isEqualTo(2);
        assertThat(metricsLogger.getUseParentHandlers()).as("the root's (JSON) handler never sees the event").isFalse();
    }

}

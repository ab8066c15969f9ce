package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.Metric;
import dev.fanout.batch.SummaryFigures;
import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.limits.LimitAlgorithm;
import dev.fanout.work.limits.LimitSettings;
import dev.fanout.work.limits.Permit;
import dev.fanout.work.limits.ServiceLimits;
import dev.fanout.engine.Deadline;
import dev.fanout.testing.ProxyEvents.Format;
import dev.fanout.testing.SqsEvents;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * Every metric {@link Metric} declares is written by some path, and every number a path writes is either a declared
 * metric or listed below as a plain member on purpose: the SQS entry point with redelivery (ElasticMQ), and the HTTP
 * entry point's 200 answer and a problem, each summary taken as {@link InvocationMetrics#emf} makes it an EMF event.
 */
class MetricNamesTest {

    /** Numbers the summaries carry for Logs Insights, not as metrics, each for a reason. */
    static final Map<String, String> PLAIN_NUMBERS = Map.of(
            "refusedResults", "results SQS refused and replaced once: rare, in the log event for the record at hand",
            "queueUnreachable", "results not sent because the queue could not be reached: the handed-back records say it",
            "resultLagP50Ms", "fan-in's confirmation lag, a diagnostic of the streaming send",
            "resultLagP99Ms", "fan-in's confirmation lag, a diagnostic of the streaming send",
            "answerMs", "the HTTP answer's assembly, a diagnostic of the cut-off margin",
            "gcMs", "garbage collection during the assembly, a diagnostic of the cut-off margin",
            "outputDropped", "HTTP outputs dropped for the response limit: already counted in failed",
            "bytes", "the HTTP answer's size",
            InvocationMetrics.STATUS, "the HTTP status; it becomes the answers2xx/4xx/5xx counts");

    /** The numeric members of an EMF event (its root, without the _aws block). */
    static Set<String> numbers(ObjectNode emf) {
        Set<String> names = new HashSet<>();
        emf.properties().forEach(member -> {
            if (member.getValue().isNumber()) {
                names.add(member.getKey());
            }
        });
        return names;
    }

    @Test
    void everyDeclaredMetricIsWrittenAndEveryNumberWrittenIsDeclaredOrPlainOnPurpose() {
        Set<String> written = new TreeSet<>();

        // SQS: 0 succeeds, 1 fails, 2 asks for 30 s, 3 is cut off; handed back and delayed (ElasticMQ)
        String work = SqsRedeliveryTest.sqs.createQueue("metric-names-work");
        String results = SqsRedeliveryTest.sqs.createQueue("metric-names-results");
        List<Message> messages = SqsRedeliveryTest.received(work, List.of(SqsRedeliveryTest.echo("ok"),
                SqsRedeliveryTest.echo("fail"), SqsEvents.item("echo", "{\"mode\":\"later\",\"seconds\":30}"),
                SqsEvents.item("delay", "{\"millis\":60000}")), null);
        SQSEvent event = SqsRedeliveryTest.event(work, messages, (i, r) -> {
        });
        var invocation = SqsRedeliveryTest.processor(results, SqsRedeliveryTest.backoff(0))
                .process(event, Deadline.after(Duration.ofMillis(2500)));
        written.addAll(numbers(InvocationMetrics.emf(invocation.summary(), "f", "sqs", 1L)));

        // SQS with a function that takes permits of a service of its own: the per-service limits' figures
        var limits = new ServiceLimits(new LimitSettings(true, LimitAlgorithm.AIMD, 4, 1, 8, 4));
        ItemFunctions withPermits = TestFunctions.builder(HttpBatchProcessorTest.MAPPER).serviceLimits(limits)
                .register("db", (payload, item) -> {
                    try (Permit permit = item.permit("orders-db")) {
                        permit.success();
                        return null;
                    }
                }).build();
        String limitedWork = SqsRedeliveryTest.sqs.createQueue("metric-names-limited");
        List<Message> limited = SqsRedeliveryTest.received(limitedWork, List.of(SqsEvents.item("db", "{}"),
                SqsEvents.item("db", "{}")), null);
        var withLimits = SqsRedeliveryTest.processor(results, SqsRedeliveryTest.backoff(0), withPermits)
                .process(SqsRedeliveryTest.event(limitedWork, limited, (i, r) -> {
                }), Deadline.after(Duration.ofSeconds(10)));
        written.addAll(numbers(InvocationMetrics.emf(withLimits.summary(), "f", "sqs", 1L)));

        // HTTP: a 200 answer and a 400 problem
        for (String body : List.of(HttpBatchProcessorTest.items(2, i -> HttpBatchProcessorTest.digest("d" + i)), "{")) {
            ObjectNode log = HttpBatchProcessorTest.MAPPER.createObjectNode();
            HttpAnswer answer = HttpBatchProcessorTest.SYNC.answer(Format.HTTP_API_V2.event(body).toString()
                    .getBytes(StandardCharsets.UTF_8), Deadline.after(Duration.ofSeconds(20)), log);
            written.addAll(numbers(InvocationMetrics.emf(log.put(InvocationMetrics.STATUS, answer.status()), "f", "http", 1L)));
        }

        Set<String> declared = new TreeSet<>(Arrays.stream(Metric.values()).map(Metric::key).toList());
        assertThat(written).as("every declared metric is written by some path").containsAll(declared);
        Set<String> undeclared = new TreeSet<>(written);
        undeclared.removeAll(declared);
        undeclared.removeIf(name -> name.startsWith(SummaryFigures.TYPE_ITEMS) || name.startsWith(SummaryFigures.TYPE_FAILURES));
        assertThat(undeclared).as("numbers written that are neither metrics nor plain on purpose")
                .isSubsetOf(PLAIN_NUMBERS.keySet());
        assertThat(written).as("the per-type counts").contains(SummaryFigures.TYPE_ITEMS + "echo", SummaryFigures.TYPE_FAILURES + "echo");
    }

    @Test
    void theEmfDeclarationDeclaresExactlyTheMetricsWithTheirUnits() {
        ObjectNode summary = HttpBatchProcessorTest.MAPPER.createObjectNode();
        for (Metric metric : Metric.values()) {
            summary.put(metric.key(), 1);
        }
        PLAIN_NUMBERS.keySet().stream().filter(name -> !name.equals(InvocationMetrics.STATUS))
                .forEach(name -> summary.put(name, 1));

        ObjectNode emf = InvocationMetrics.emf(summary, "f", "sqs", 1L);

        Set<String> declared = new TreeSet<>();
        for (JsonNode definition : emf.at("/_aws/CloudWatchMetrics/0/Metrics")) {
            String name = definition.get("Name").asText();
            declared.add(name);
            assertThat(definition.get("Unit").asText()).as(name)
                    .isEqualTo(Metric.byKey(name).orElseThrow().unit().emfName());
        }
        assertThat(declared).isEqualTo(new TreeSet<>(Arrays.stream(Metric.values()).map(Metric::key).toList()));
        assertThat(Metric.byKey("records")).contains(Metric.RECORDS);
        assertThat(Metric.unitOf("delayMaxSeconds")).contains(Metric.Unit.SECONDS);
        assertThat(Metric.unitOf("engineMs")).contains(Metric.Unit.MILLISECONDS);
        assertThat(Metric.unitOf(SummaryFigures.TYPE_FAILURES + "x")).contains(Metric.Unit.COUNT);
        assertThat(Metric.unitOf("refusedResults")).isEmpty();
    }
}

package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.EmfSpecification;
import dev.fanout.testing.LocalEventSource;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import dev.fanout.testing.SqsEvents;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The packaged function delays the records it hands back, as wired from its settings: an emulated event source
 * mapping receives real messages from ElasticMQ (receipt handles, receive counts, the queue's ARN), and after the
 * invocation a record whose delay is 0 s is receivable at once, while one whose service asked for 120 s
 * ({@code Retry-After} on a 503 that does not fit the invocation) is not.
 */
class SqsRedeliveryIT {

    @Test
    void aFailedRecordComesBackAfterItsBackoffAndA503RecordNoEarlierThanItsRetryAfter() throws Exception {
        var calls = new AtomicInteger();
        HttpServer service = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        service.createContext("/", exchange -> {
            calls.incrementAndGet();
            exchange.getResponseHeaders().add("Retry-After", "120");
            exchange.sendResponseHeaders(503, -1);
            exchange.close();
        });
        service.start();
        try (var sqs = ElasticMq.start(); var api = RuntimeApiServer.start()) {
            String work = sqs.client().createQueue(r -> r.queueName("redelivery-it-work")
                    .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "300"))).queueUrl();
            String results = sqs.createQueue("redelivery-it-results");
            List<String> bodies = List.of(SqsEvents.item("digest", "{\"data\":\"ok\"}"),
                    SqsEvents.item("delay", "{\"millis\":1,\"failRate\":1.0}"),
                    SqsEvents.item("http", "{\"url\":\"http://127.0.0.1:" + service.getAddress().getPort() + "/busy\"}"));
            sqs.client().sendMessageBatch(r -> r.queueUrl(work).entries(List.of(
                    SendMessageBatchRequestEntry.builder().id("0").messageBody(bodies.get(0)).build(),
                    SendMessageBatchRequestEntry.builder().id("1").messageBody(bodies.get(1)).build(),
                    SendMessageBatchRequestEntry.builder().id("2").messageBody(bodies.get(2)).build())));
            // a base delay of 0 s: a failure's backoff is 0 s, so a record it delays is receivable at once
            try (var function = PackagedFunction.start("sqs", api, Map.of("RESULTS_QUEUE_URL", results,
                    "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString(), "FANOUT_CUTOFF_MARGIN", "1s",
                    "FANOUT_HTTP_ALLOW", "127.0.0.1/32", "FANOUT_RETRY_BASE_DELAY", "0s"))) {
                var source = new LocalEventSource(sqs.client(), work, api, 10, Duration.ofSeconds(10));

                var round = source.pollAndInvoke();

                assertThat(round).isNotNull();
                assertThat(round.error()).as(function.log()).isFalse();
                assertThat(round.beforeDeadline()).isTrue();
                assertThat(List.of(round.records(), round.reported())).containsExactly(3, 2);
                assertThat(calls).hasValue(1); // the 503's wait does not fit: no retry inside the invocation
                // received with the queue's 300 s: only the record delayed 0 s is back already
                List<Message> back = sqs.client().receiveMessage(r -> r.queueUrl(work).maxNumberOfMessages(10)
                        .waitTimeSeconds(0)).messages();
                assertThat(back).as(function.log()).extracting(Message::body).containsExactly(bodies.get(1));
                assertThat(source.outstanding()).isEqualTo(2);

                String line = function.log().lines().filter(l -> l.contains("\"event\":\"fanout.sqs\""))
                        .reduce((a, b) -> b).orElseThrow();
                JsonNode emf = EmfSpecification.parse(line);
                assertThat(EmfSpecification.violations(emf.toString())).isEmpty();
                assertThat(List.of(emf.get("recordsDelayed").asInt(), emf.get("recordsNotDelayed").asInt(),
                        emf.get("visibilityRequests").asInt(), emf.get("delayMinSeconds").asInt(),
                        emf.get("delayMaxSeconds").asInt())).containsExactly(2, 0, 1, 0, 120);
            }
        } finally {
            service.stop(0);
        }
    }
}

package dev.fanout.fanin;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.engine.Deadline;
import dev.fanout.testing.ElasticMq;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SqsException;

/** The results sink against ElasticMQ, with exact faults in front of it. */
class SqsResultsSinkTest {

    static ElasticMq sqs;

    @BeforeAll
    static void start() {
        sqs = ElasticMq.start();
    }

    @AfterAll
    static void stop() {
        sqs.close();
    }

    static ResultMessage message(String body, String group) {
        return new ResultMessage(body, Map.of("status", "succeeded"), Optional.ofNullable(group),
                Optional.ofNullable(group == null ? null : body));
    }

    static SqsResultsSink.Settings settings(String queue, int maxAttempts) {
        return new SqsResultsSink.Settings(queue, SqsResultsSink.SQS_MAX_BYTES, SqsResultsSink.SQS_MAX_BYTES, 4,
                maxAttempts, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(20));
    }

    /** A client in front of ElasticMQ that lets a test decide each request's fate. */
    interface Interceptor {
        SendMessageBatchResponse send(SendMessageBatchRequest request, SqsClient real);
    }

    static SqsClient intercepted(Interceptor interceptor) {
        return new SqsClient() {
            @Override
            public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
                return interceptor.send(request, sqs.client());
            }

            @Override
            public String serviceName() {
                return "sqs";
            }

            @Override
            public void close() {
            }
        };
    }

    @Test
    void onAFifoQueueAGroupWithAnUnconfirmedResultSendsNothingAfterIt() {
        String queue = sqs.createQueue("sink-hold-back.fifo");
        // batch 1: a0..a9 (a0 refused); batch 2: a10, b0
        List<ResultMessage> messages = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            messages.add(message("a" + i, "a"));
        }
        messages.add(message("b0", "b"));
        SqsClient client = intercepted((request, real) -> {
            var forwarded = request.entries().stream().filter(e -> !e.messageBody().equals("a0")).toList();
            var stored = real.sendMessageBatch(request.toBuilder().entries(forwarded).build());
            var failed = new ArrayList<>(stored.failed());
            request.entries().stream().filter(e -> e.messageBody().equals("a0")).forEach(e -> failed.add(
                    BatchResultErrorEntry.builder().id(e.id()).senderFault(false).code("InternalError").message("injected").build()));
            return stored.toBuilder().failed(failed).build();
        });

        Delivery delivery = new SqsResultsSink(client, settings(queue, 1)).deliver(messages, Deadline.after(Duration.ofSeconds(10)));

        assertThat(delivery.failures().get(0)).isEqualTo("gave up after 1 attempt: SQS refused the entry: InternalError injected");
        assertThat(delivery.failures().get(10)).isEqualTo("held back: an earlier result of its group was not confirmed");
        assertThat(delivery.delivered(11)).isTrue();
        assertThat(sqs.drain(queue)).extracting(m -> m.body())
                .containsExactlyInAnyOrder("a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "b0");
    }

    @Test
    void aBatchTheQueueFindsTooLongIsSplitUntilItFits() {
        String queue = sqs.createQueue("sink-split");
        var requests = new AtomicInteger();
        SqsClient client = intercepted((request, real) -> {
            requests.incrementAndGet();
            if (request.entries().size() > 3) {
                throw (SqsException) SqsException.builder().statusCode(400).awsErrorDetails(AwsErrorDetails.builder()
                        .errorCode("AWS.SimpleQueueService.BatchRequestTooLong")
                        .errorMessage("Batch requests cannot be longer than 262144 bytes").build())
                        .build();
            }
            return real.sendMessageBatch(request);
        });
        List<ResultMessage> messages = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            messages.add(message("r" + i, null));
        }

        Delivery delivery = new SqsResultsSink(client, settings(queue, 3)).deliver(messages, Deadline.after(Duration.ofSeconds(10)));

        assertThat(delivery.deliveredCount()).isEqualTo(10);
        // 10 -> 5 + 5 -> (2 + 3) + (2 + 3): three refused requests, then four that fit
        assertThat(requests).hasValue(7);
        assertThat(sqs.drain(queue)).hasSize(10);
    }

    @Test
    void nonCharactersSqsRefusesAreEscapedInResultBodies() throws Exception {
        var mapper = new ObjectMapper();
        var record = new ResultRecord("m-1", "i", "echo", "succeeded",
                mapper.createObjectNode().put("text", "a\uFFFFb\uFFFEc 🚀"), null, 1, null, null);

        String body = new ResultWriter(mapper).write(record);

        assertThat(body).contains("a\\uffffb\\ufffec 🚀").doesNotContain("\uFFFF", "\uFFFE");
        assertThat(mapper.readTree(body).at("/output/text").asText()).isEqualTo("a\uFFFFb\uFFFEc 🚀");
    }
}

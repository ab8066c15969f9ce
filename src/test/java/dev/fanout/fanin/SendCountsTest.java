package dev.fanout.fanin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.fanout.engine.Deadline;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.FaultProxy;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * A delivery's counted requests and retries against the calls the endpoint saw: a {@link FaultProxy} in front of
 * ElasticMQ counts every SendMessageBatch call, and those that carried an entry an earlier call carried (a retry
 * as the server sees it). Whatever the faults, every counted request is a call the server saw, and every counted
 * retry a call that sent entries again; without faults there is no retry at all.
 */
class SendCountsTest {

    static final ElasticMq sqs = ElasticMq.shared();

    static List<ResultMessage> messages(int n) {
        List<ResultMessage> messages = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            messages.add(new ResultMessage("result-" + i, Map.of("status", "succeeded"), Optional.empty(), Optional.empty()));
        }
        return messages;
    }

    static SqsResultsSink.Settings settings(String queue, int maxAttempts) {
        return new SqsResultsSink.Settings(queue, SqsResultsSink.SQS_MAX_BYTES, SqsResultsSink.SQS_MAX_BYTES, 8,
                maxAttempts, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(20));
    }

    /** All of {@code messages} through the sink: in one delivery, or streamed as a batch's results are. */
    static Delivery deliver(SqsResultsSink sink, List<ResultMessage> messages, boolean streaming) {
        Deadline deadline = Deadline.after(Duration.ofSeconds(60));
        if (!streaming) {
            return sink.deliver(messages, deadline);
        }
        ResultStream stream = sink.open(messages.size(), deadline);
        for (int i = 0; i < messages.size(); i++) {
            stream.offer(i, messages.get(i), -1);
        }
        return stream.close();
    }

    @ParameterizedTest(name = "streaming {0}")
    @ValueSource(booleans = {false, true})
    void withoutFaultsEveryRequestIsAFirstSendAndNoRetryIsCounted(boolean streaming) throws Exception {
        String queue = sqs.createQueue("counts-clean");
        try (var proxy = FaultProxy.start(sqs.endpoint(), new FaultProxy.Faults(0, 0, 0, 0, 0, 0));
                SqsClient client = ElasticMq.client(proxy.endpoint())) {

            Delivery delivery = deliver(new SqsResultsSink(client, settings(queue, 5)), messages(1_000), streaming);

            assertThat(delivery.deliveredCount()).isEqualTo(1_000);
            assertThat(delivery.requests()).as("requests counted = calls the server saw").isEqualTo(proxy.calls.get());
            assertThat(delivery.retries()).isZero();
            assertThat(proxy.resentCalls).hasValue(0);
            if (!streaming) {
                assertThat(delivery.requests()).isEqualTo(100); // 10 entries a request
            }
            assertThat(sqs.drain(queue)).hasSize(1_000);
        }
    }

    @ParameterizedTest(name = "streaming {0}")
    @ValueSource(booleans = {false, true})
    void underFaultsEachCountedRetryIsACallTheServerSawSendAgain(boolean streaming) throws Exception {
        String queue = sqs.createQueue("counts-faults");
        // throttles and 5xx answers before the server, entries failed in a 200; no lost answers: a dropped
        // connection may be resent by the JDK's HTTP client itself, a call the sink never made
        try (var proxy = FaultProxy.start(sqs.endpoint(), new FaultProxy.Faults(15, 15, 10, 0, 0, 0));
                SqsClient client = ElasticMq.client(proxy.endpoint())) {

            Delivery delivery = deliver(new SqsResultsSink(client, settings(queue, 20)), messages(1_000), streaming);

            assertThat(delivery.deliveredCount()).isEqualTo(1_000);
            assertThat(delivery.requests()).as("requests counted = calls the server saw").isEqualTo(proxy.calls.get());
            assertThat(delivery.retries()).as("retries counted = calls that sent entries again, %s", proxy.describe())
                    .isEqualTo(proxy.resentCalls.get());
            assertThat(delivery.retries()).isPositive();
            assertThat(sqs.drain(queue)).as("each entry stored once: a failed one was held back").hasSize(1_000);
            System.out.printf("streaming %s: %d requests, %d retries; the proxy saw %s, %d of them resending%n",
                    streaming, delivery.requests(), delivery.retries(), proxy.describe(), proxy.resentCalls.get());
        }
    }

    /** Counts calls as a server would, in front of a real client: for calls no server sees (connection refused). */
    static final class CountingClient implements SqsClient {
        final SqsClient delegate;
        final AtomicInteger calls = new AtomicInteger();
        final AtomicInteger resentCalls = new AtomicInteger();
        final Set<String> seen = ConcurrentHashMap.newKeySet();

        CountingClient(SqsClient delegate) {
            this.delegate = delegate;
        }

        @Override
        public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
            calls.incrementAndGet();
            boolean resent = false;
            for (SendMessageBatchRequestEntry entry : request.entries()) {
                resent |= !seen.add(entry.id() + "\u0000" + entry.messageBody());
            }
            if (resent) {
                resentCalls.incrementAndGet();
            }
            return delegate.sendMessageBatch(request);
        }

        @Override
        public String serviceName() {
            return delegate.serviceName();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    /**
     * A queue that refuses connections: the senders pause between attempts, and the third failure in a row declares
     * the queue unreachable while others pause. A pause that ends without a call is no retry (it was counted as one
     * before the call was made, and so a retry could be counted that no endpoint ever saw).
     */
    @Test
    void aPauseThatEndsWithoutACallIsNoRetry() throws Exception {
        int deadPort;
        try (var socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort(); // closed again: connections to it are refused
        }
        String queue = "http://127.0.0.1:" + deadPort + "/000000000000/results";
        try (var client = new CountingClient(ElasticMq.client(URI.create("http://127.0.0.1:" + deadPort)))) {
            var settings = new SqsResultsSink.Settings(queue, SqsResultsSink.SQS_MAX_BYTES, SqsResultsSink.SQS_MAX_BYTES, 8,
                    100, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(20));

            Delivery delivery = new SqsResultsSink(client, settings).deliver(messages(80), Deadline.after(Duration.ofSeconds(60)));

            assertThat(delivery.unreachable()).isTrue();
            // eight senders: the calls in flight when the third failure comes are made too
            assertThat(delivery.requests()).isEqualTo(client.calls.get()).isGreaterThanOrEqualTo(SqsResultsSink.MAX_CONNECT_FAILURES);
            assertThat(delivery.retries()).as("%d calls, %d of them resending", client.calls.get(), client.resentCalls.get())
                    .isEqualTo(client.resentCalls.get());
        }
    }
}

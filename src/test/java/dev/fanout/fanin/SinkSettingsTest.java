package dev.fanout.fanin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.fanout.testing.FanoutSettings;
import dev.fanout.testing.ElasticMq;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.EmptyBatchRequestException;

/** The sink's settings, checked with exact messages, and its warm-up call against a real and a dead queue. */
class SinkSettingsTest {

    static final ElasticMq sqs = ElasticMq.shared();

    static SqsResultsSink.Settings settings(int maxMessageBytes, int maxBatchBytes, int sendConcurrency, int maxAttempts) {
        return new SqsResultsSink.Settings("http://q/results", maxMessageBytes, maxBatchBytes, sendConcurrency,
                maxAttempts, Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(20));
    }

    @Test
    void eachLimitIsCheckedWithItsName() {
        assertThatThrownBy(() -> settings(0, 1000, 1, 1)).hasMessage("maxMessageBytes must be between 1 and 1048576, was 0");
        assertThatThrownBy(() -> settings(1000, 999, 1, 1)).hasMessage("maxBatchBytes must be between 1000 and 1048576, was 999");
        assertThatThrownBy(() -> settings(1000, 1000, 1025, 1)).hasMessage("sendConcurrency must be between 1 and 1024, was 1025");
        assertThatThrownBy(() -> settings(1000, 1000, 1, 101)).hasMessage("maxAttempts must be between 1 and 100, was 101");
        assertThatThrownBy(() -> FanoutSettings.results(" "))
                .hasMessage("the results queue URL is empty: set RESULTS_QUEUE_URL");
    }

    @Test
    void theDefaultsAndTheKindOfQueue() {
        var defaults = FanoutSettings.results("http://q/results.fifo");
        assertThat(defaults).isEqualTo(new SqsResultsSink.Settings("http://q/results.fifo", 1_048_576, 1_048_576, 32, 5,
                Duration.ofMillis(50), Duration.ofSeconds(1), Duration.ofMillis(50)));
        assertThat(defaults.fifo()).isTrue();
        assertThat(FanoutSettings.results("http://q/results").fifo()).isFalse();
    }

    @Test
    void theWarmUpSaysWhetherTheQueueAnswered() throws Exception {
        var settings = FanoutSettings.results(sqs.createQueue("warm-up"));
        var sink = new SqsResultsSink(sqs.client(), settings);
        assertThat(sink.settings()).isSameAs(settings);
        // ElasticMQ stores nothing and says so; SQS refuses an empty batch, which is as good an answer
        assertThat(sink.warmUp()).isEqualTo("accepted an empty batch");
        var refusing = new SqsResultsSink(SqsResultsSinkTest.intercepted(sqs, (request, real) -> {
            throw EmptyBatchRequestException.builder().message("There should be at least one entry").build();
        }), settings);
        assertThat(refusing.warmUp()).isEqualTo("reachable");
        int deadPort;
        try (var socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort(); // closed again: connections to it are refused
        }
        try (SqsClient dead = ElasticMq.client(URI.create("http://127.0.0.1:" + deadPort))) {
            var unreachable = new SqsResultsSink(dead,
                    FanoutSettings.results("http://127.0.0.1:" + deadPort + "/0/results"));
            assertThat(unreachable.warmUp()).startsWith("not reachable yet: SdkClientException: ");
        }
    }
}

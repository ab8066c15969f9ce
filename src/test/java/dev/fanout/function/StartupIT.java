package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import dev.fanout.testing.SqsEvents;

/** Lambda's init phase of the packaged function, under AWS's Runtime Interface Client. */
class StartupIT {

    static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void aFailedInitReportsItsCauseToLambda() throws Exception {
        try (RuntimeApiServer api = RuntimeApiServer.start();
                PackagedFunction function = PackagedFunction.start("sqs", api, Map.of())) {

            String error = api.initError().get(60, TimeUnit.SECONDS);

            // what Lambda shows as the function's error: the cause, not "Quarkus manual initialization failed"
            JsonNode report = MAPPER.readTree(error);
            assertThat(report.get("errorMessage").asText()).as(function.log())
                    .isEqualTo("no results queue: set RESULTS_QUEUE_URL (fanout.results.queue-url)");
            assertThat(report.get("errorType").asText()).isEqualTo("java.lang.IllegalStateException");
        }
    }

    @Test
    void aDefaultTypeThatNamesNoFunctionFailsTheStart() throws Exception {
        try (RuntimeApiServer api = RuntimeApiServer.start();
                PackagedFunction function = PackagedFunction.start("http", api, Map.of("FANOUT_DEFAULT_TYPE", "teleport"))) {

            JsonNode report = MAPPER.readTree(api.initError().get(60, TimeUnit.SECONDS));
            assertThat(report.get("errorMessage").asText()).as(function.log())
                    .isEqualTo("fanout.default-type (FANOUT_DEFAULT_TYPE) must be an item type of this function"
                            + " (delay, digest, greet, http), was 'teleport'");
        }
    }

    /**
     * A configuration that cannot work fails the init, every bad setting named in the one error Lambda shows
     * ({@link ConfigChecks}, whose refusals {@code ConfigChecksTest} goes through one by one): a results queue URL
     * that is no URL would otherwise hand every record back until the dead-letter queue has them all.
     */
    @Test
    void aConfigurationThatCannotWorkFailsTheInitNamingEachSetting() throws Exception {
        try (RuntimeApiServer api = RuntimeApiServer.start();
                PackagedFunction function = PackagedFunction.start("sqs", api, Map.of("RESULTS_QUEUE_URL", "acc-results",
                        "FANOUT_CUTOFF_MARGIN", "400ms"))) {

            String error = api.initError().get(60, TimeUnit.SECONDS);

            JsonNode report = MAPPER.readTree(error);
            assertThat(report.get("errorMessage").asText()).as(function.log()).isEqualTo("fanout.results.queue-url"
                    + " (RESULTS_QUEUE_URL) must be an SQS queue URL, an absolute http(s) URL with a path such as"
                    + " https://sqs.us-east-1.amazonaws.com/123456789012/results; 'acc-results' has no scheme;"
                    + " fanout.cutoff-margin (FANOUT_CUTOFF_MARGIN) leaves no time for fan-in: it must exceed"
                    + " fanout.cancel-grace + fanout.response-margin + fanout.results.min-call-time (PT0.4S), was PT0.4S");
            assertThat(report.get("errorType").asText()).isEqualTo("java.lang.IllegalStateException");
        }
    }

    /** Accepts connections and never answers: a results endpoint that hangs. */
    static final class SilentServer implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<Socket> accepted = new ArrayList<>();
        final Thread acceptor = Thread.ofVirtual().start(() -> {
            try {
                while (true) {
                    Socket s = socket.accept();
                    synchronized (accepted) {
                        accepted.add(s);
                    }
                }
            } catch (IOException closed) {
                // the test is over
            }
        });

        SilentServer() throws IOException {
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            synchronized (accepted) {
                for (Socket s : accepted) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aResultsQueueThatDoesNotAnswerAtInitIsAWarningAndTheFunctionServes() throws Exception {
        try (SilentServer silent = new SilentServer(); RuntimeApiServer api = RuntimeApiServer.start();
                PackagedFunction function = PackagedFunction.start("sqs", api, Map.of(
                        "RESULTS_QUEUE_URL", silent.url() + "/000000000000/results", "FANOUT_RESULTS_ENDPOINT", silent.url()))) {

            var result = api.invoke(SqsEvents.fixture("sqs-empty.json"), Duration.ofSeconds(30));

            assertThat(result.error()).as(function.log()).isFalse();
            assertThat(result.body()).isEqualTo("{\"batchItemFailures\":[]}");
            assertThat(api.initError()).isNotDone();
            // the warm-up gave up at its own call timeout, not at the 10 s socket timeout or Lambda's init limit
            assertThat(function.log()).contains("WARN", "results queue " + silent.url() + "/000000000000/results: not reachable yet",
                    "ApiCallTimeoutException");
            // the start's priming (StartPriming) touched no network and ended without a failure to report
            assertThat(function.log()).doesNotContain("-priming failed");
        }
    }
}

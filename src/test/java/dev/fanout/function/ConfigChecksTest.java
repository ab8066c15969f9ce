package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.fanout.testing.FanoutSettings;

/**
 * Each start-up refusal, one setting at a time, on the configuration mapping as SmallRye Config builds it: the
 * message names the setting, its environment variable, the bound and the value. {@code StartupIT} shows one of them
 * failing the packaged function's init.
 */
class ConfigChecksTest {

    static final String QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/results";
    static final ConfigChecks.ItemTypes TYPES = () -> Set.of("digest", "delay", "http");

    static FanoutConfig config(Map<String, String> settings) {
        Map<String, String> all = new HashMap<>(Map.of("fanout.results.queue-url", QUEUE));
        all.putAll(settings);
        return FanoutSettings.config(all);
    }

    static java.util.List<String> problems(String entryPoint, Map<String, String> settings) {
        return ConfigChecks.problems(config(settings), entryPoint, TYPES);
    }

    @Test
    void theDefaultsPassOnBothEntryPoints() {
        assertThat(problems("sqs", Map.of())).isEmpty();
        assertThat(problems("http", Map.of("fanout.results.queue-url", ""))).isEmpty();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "fanout.max-concurrency | 0 | fanout.max-concurrency (FANOUT_MAX_CONCURRENCY) must be between 1 and 10000, was 0",
            "fanout.max-concurrency | 10001 | fanout.max-concurrency (FANOUT_MAX_CONCURRENCY) must be between 1 and 10000, was 10001",
            "fanout.item-timeout | 0s | fanout.item-timeout (FANOUT_ITEM_TIMEOUT) must be positive, was PT0S",
            "fanout.item-timeout | 16m | fanout.item-timeout (FANOUT_ITEM_TIMEOUT) must be at most Lambda's longest timeout (15 minutes), was PT16M",
            "fanout.cutoff-margin | -1s | fanout.cutoff-margin (FANOUT_CUTOFF_MARGIN) must be positive, was PT-1S",
            "fanout.cutoff-margin | 400ms | fanout.cutoff-margin (FANOUT_CUTOFF_MARGIN) leaves no time for fan-in: it must exceed fanout.cancel-grace + fanout.response-margin + fanout.results.min-call-time (PT0.4S), was PT0.4S",
            "fanout.retry.response-reserve | 250ms | fanout.retry.response-reserve (FANOUT_RETRY_RESPONSE_RESERVE) must be at least zero and below fanout.response-margin (PT0.25S), was PT0.25S",
            "fanout.cancel-grace | -1ms | fanout.cancel-grace (FANOUT_CANCEL_GRACE) must not be negative, was PT-0.001S",
            "fanout.response-margin | 20m | fanout.response-margin (FANOUT_RESPONSE_MARGIN) must be at most Lambda's longest timeout (15 minutes), was PT20M",
            "fanout.fallback-timeout | 0s | fanout.fallback-timeout (FANOUT_FALLBACK_TIMEOUT) must be positive, was PT0S",
            "fanout.default-type | teleport | fanout.default-type (FANOUT_DEFAULT_TYPE) must be an item type of this function (delay, digest, http), was 'teleport'",
            "fanout.digest-max-rounds | 0 | fanout.digest-max-rounds (FANOUT_DIGEST_MAX_ROUNDS) must be at least 1, was 0",
            "fanout.delay-max | 0s | fanout.delay-max (FANOUT_DELAY_MAX) must be positive, was PT0S",
            "fanout.results.queue-url | acc-results | fanout.results.queue-url (RESULTS_QUEUE_URL) must be an SQS queue URL, an absolute http(s) URL with a path such as https://sqs.us-east-1.amazonaws.com/123456789012/results; 'acc-results' has no scheme",
            "fanout.results.queue-url | https://sqs.us-east-1.amazonaws.com | fanout.results.queue-url (RESULTS_QUEUE_URL) must be an SQS queue URL, an absolute http(s) URL with a path such as https://sqs.us-east-1.amazonaws.com/123456789012/results; 'https://sqs.us-east-1.amazonaws.com' has no path (the account and the queue's name)",
            "fanout.results.queue-url | ftp://host/1/q | fanout.results.queue-url (RESULTS_QUEUE_URL) must be an SQS queue URL, an absolute http(s) URL with a path such as https://sqs.us-east-1.amazonaws.com/123456789012/results; 'ftp://host/1/q' is not http(s)",
            "fanout.results.queue-url | https:///1/q | fanout.results.queue-url (RESULTS_QUEUE_URL) must be an SQS queue URL, an absolute http(s) URL with a path such as https://sqs.us-east-1.amazonaws.com/123456789012/results; 'https:///1/q' has no host",
            "fanout.results.queue-url | https://a b/1/q | fanout.results.queue-url (RESULTS_QUEUE_URL) must be an SQS queue URL, an absolute http(s) URL with a path such as https://sqs.us-east-1.amazonaws.com/123456789012/results; 'https://a b/1/q' is not a URL (Illegal character in authority at index 9)",
            "fanout.results.endpoint | localhost:9324 | fanout.results.endpoint (FANOUT_RESULTS_ENDPOINT) must be an absolute http(s) URL such as http://127.0.0.1:9324; 'localhost:9324' is not http(s)",
            "fanout.results.region | useast1 | fanout.results.region (AWS_REGION) must be an AWS region such as us-east-1 (or set fanout.results.endpoint), was 'useast1'",
            "fanout.results.max-message-bytes | 1048577 | fanout.results.max-message-bytes (FANOUT_RESULTS_MAX_MESSAGE_BYTES) must be between 1 and 1048576, was 1048577",
            "fanout.results.max-batch-bytes | 1000 | fanout.results.max-batch-bytes (FANOUT_RESULTS_MAX_BATCH_BYTES) must be between 1048576 and 1048576, was 1000",
            "fanout.results.send-concurrency | 0 | fanout.results.send-concurrency (FANOUT_RESULTS_SEND_CONCURRENCY) must be between 1 and 1024, was 0",
            "fanout.results.max-attempts | 101 | fanout.results.max-attempts (FANOUT_RESULTS_MAX_ATTEMPTS) must be between 1 and 100, was 101",
            "fanout.results.backoff-base | 0ms | fanout.results.backoff-base (FANOUT_RESULTS_BACKOFF_BASE) must be positive, was PT0S",
            "fanout.results.backoff-cap | 10ms | fanout.results.backoff-cap (FANOUT_RESULTS_BACKOFF_CAP) must be at least fanout.results.backoff-base (PT0.05S), was PT0.01S",
            "fanout.results.min-call-time | 0s | fanout.results.min-call-time (FANOUT_RESULTS_MIN_CALL_TIME) must be positive, was PT0S",
            "fanout.http-api.timeout | 0s | fanout.http-api.timeout (FANOUT_HTTP_API_TIMEOUT) must be positive, was PT0S",
            "fanout.http-api.cutoff-margin | 100ms | fanout.http-api.cutoff-margin (FANOUT_HTTP_API_CUTOFF_MARGIN) must exceed fanout.cancel-grace (PT0.1S) and be less than fanout.http-api.timeout (PT29S), was PT0.1S",
            "fanout.http-api.cutoff-margin | 29s | fanout.http-api.cutoff-margin (FANOUT_HTTP_API_CUTOFF_MARGIN) must exceed fanout.cancel-grace (PT0.1S) and be less than fanout.http-api.timeout (PT29S), was PT29S",
            "fanout.http-api.memory-mb | 127 | fanout.http-api.memory-mb (AWS_LAMBDA_FUNCTION_MEMORY_SIZE) must be between 128 and 10240, was 127",
            "fanout.http-api.max-items | 0 | fanout.http-api.max-items (FANOUT_HTTP_API_MAX_ITEMS) must be at least 1, was 0",
            "fanout.http-api.max-queued-items | 0 | fanout.http-api.max-queued-items (FANOUT_HTTP_API_MAX_QUEUED_ITEMS) must be at least 1, was 0",
            "fanout.http-api.work-queue-url | work | fanout.http-api.work-queue-url (WORK_QUEUE_URL) must be an SQS queue URL, an absolute http(s) URL with a path such as https://sqs.us-east-1.amazonaws.com/123456789012/results; 'work' has no scheme",
            "fanout.http.connect-timeout | 0s | fanout.http.connect-timeout (FANOUT_HTTP_CONNECT_TIMEOUT) must be positive, was PT0S",
            "fanout.http.default-timeout | 16m | fanout.http.default-timeout (FANOUT_HTTP_DEFAULT_TIMEOUT) must be at most Lambda's longest timeout (15 minutes), was PT16M",
            "fanout.http.max-body-bytes | 262145 | fanout.http.max-body-bytes (FANOUT_HTTP_MAX_BODY_BYTES) must be between 0 and 262144, was 262145",
            "fanout.http.max-attempts | 11 | fanout.http.max-attempts (FANOUT_HTTP_MAX_ATTEMPTS) must be between 1 and 10, was 11",
            "fanout.http.max-redirects | 21 | fanout.http.max-redirects (FANOUT_HTTP_MAX_REDIRECTS) must be between 0 and 20, was 21",
            "fanout.http.hold-after-failures | -1 | fanout.http.hold-after-failures (FANOUT_HTTP_HOLD_AFTER_FAILURES) must be at least 0, was -1",
            "fanout.http.response-headers | content type | fanout.http.response-headers (FANOUT_HTTP_RESPONSE_HEADERS) responseHeaders has an invalid header name: content type",
            "fanout.adaptive.algorithm | cubic | fanout.adaptive.algorithm (FANOUT_ADAPTIVE_ALGORITHM) must be aimd, vegas or gradient2, was 'cubic'",
            "fanout.adaptive.min-limit | 0 | fanout.adaptive.min-limit (FANOUT_ADAPTIVE_MIN_LIMIT) must be at least 1, was 0",
            "fanout.adaptive.max-limit | 1 | fanout.adaptive.max-limit (FANOUT_ADAPTIVE_MAX_LIMIT) must be at least fanout.adaptive.min-limit (2), was 1",
            "fanout.adaptive.initial-limit | 1001 | fanout.adaptive.initial-limit (FANOUT_ADAPTIVE_INITIAL_LIMIT) must be between fanout.adaptive.min-limit (2) and fanout.adaptive.max-limit (1000), was 1001",
            "fanout.adaptive.max-services | 0 | fanout.adaptive.max-services (FANOUT_ADAPTIVE_MAX_SERVICES) must be between 1 and 100000, was 0",
            "fanout.http.allow | 10.0.0.0/33 | fanout.http.allow (FANOUT_HTTP_ALLOW) allow entry '10.0.0.0/33' must have a prefix length between 0 and 32",
    })
    void eachSettingThatCannotWorkIsNamedWithItsBound(String property, String value, String message) {
        assertThat(problems("sqs", Map.of(property, value))).containsExactly(message);
    }

    @Test
    void theResultsQueueIsNeededByTheEntryPointsThatFanIn() {
        for (String entryPoint : java.util.List.of("sqs", "kinesis", "dynamodb")) {
            assertThat(problems(entryPoint, Map.of("fanout.results.queue-url", ""))).as(entryPoint)
                    .containsExactly("no results queue: set RESULTS_QUEUE_URL (fanout.results.queue-url)");
        }
        assertThat(problems("http", Map.of("fanout.results.queue-url", ""))).isEmpty();
        // set, it must be a queue URL whichever entry point runs
        assertThat(problems("http", Map.of("fanout.results.queue-url", "acc-results"))).hasSize(1);
    }

    @Test
    void theAdaptiveLimitsAreNotCheckedWhenOff() {
        assertThat(problems("sqs", Map.of("fanout.adaptive.enabled", "false", "fanout.adaptive.algorithm", "cubic",
                "fanout.adaptive.min-limit", "0"))).isEmpty();
        // a floor above the initial limit: the initial limit is the one named
        assertThat(problems("sqs", Map.of("fanout.adaptive.min-limit", "30"))).containsExactly(
                "fanout.adaptive.initial-limit (FANOUT_ADAPTIVE_INITIAL_LIMIT) must be between fanout.adaptive.min-limit"
                        + " (30) and fanout.adaptive.max-limit (1000), was 20");
    }

    @Test
    void theCutoffMarginsLowerBoundIs400MsWithTheDefaultsAndFollowsThem() {
        assertThat(problems("sqs", Map.of("fanout.cutoff-margin", "401ms"))).isEmpty();
        assertThat(problems("sqs", Map.of("fanout.cutoff-margin", "400ms"))).hasSize(1);
        assertThat(problems("sqs", Map.of("fanout.cutoff-margin", "401ms", "fanout.response-margin", "300ms"))).hasSize(1);
        // the stream entry points fan in to the same queue, with the same margin
        assertThat(problems("kinesis", Map.of("fanout.cutoff-margin", "400ms"))).hasSize(1);
        assertThat(problems("dynamodb", Map.of("fanout.cutoff-margin", "400ms"))).hasSize(1);
        assertThat(problems("kinesis", Map.of("fanout.cutoff-margin", "401ms"))).isEmpty();
        // the HTTP entry point has its own margin (fanout.http-api.cutoff-margin): fanout.cutoff-margin is not used
        assertThat(problems("http", Map.of("fanout.cutoff-margin", "100ms"))).isEmpty();
    }

    @Test
    void aRegionIsFreeWithAnEndpointOfItsOwn() {
        assertThat(problems("sqs", Map.of("fanout.results.region", "elasticmq",
                "fanout.results.endpoint", "http://127.0.0.1:9324"))).isEmpty();
        assertThat(problems("sqs", Map.of("fanout.results.region", "us-gov-west-1"))).isEmpty();
        assertThat(problems("sqs", Map.of("fanout.results.region", "cn-north-1"))).isEmpty();
    }

    @Test
    void aLocalQueueUrlIsAQueueUrl() {
        assertThat(problems("sqs", Map.of("fanout.results.queue-url", "http://127.0.0.1:9324/000000000000/results"))).isEmpty();
        assertThat(problems("http", Map.of("fanout.http-api.work-queue-url", "http://localhost:9324/queue/work"))).isEmpty();
    }

    @Test
    void everyProblemIsReportedInOneMessage() {
        Map<String, String> bad = Map.of("fanout.max-concurrency", "0", "fanout.results.queue-url", "acc-results",
                "fanout.http.max-attempts", "0");
        assertThatThrownBy(() -> ConfigChecks.enforce(config(bad), "sqs", TYPES)).isInstanceOf(IllegalStateException.class)
                .hasMessage("fanout.max-concurrency (FANOUT_MAX_CONCURRENCY) must be between 1 and 10000, was 0; "
                        + "fanout.results.queue-url (RESULTS_QUEUE_URL) must be an SQS queue URL, an absolute http(s) URL"
                        + " with a path such as https://sqs.us-east-1.amazonaws.com/123456789012/results; 'acc-results' has"
                        + " no scheme; fanout.http.max-attempts (FANOUT_HTTP_MAX_ATTEMPTS) must be between 1 and 10, was 0");
    }

    @Test
    void theItemTypesAreAskedForOnlyWhenADefaultTypeIsSet() {
        ConfigChecks.ItemTypes none = () -> {
            throw new AssertionError("asked for the item types");
        };
        assertThat(ConfigChecks.problems(config(Map.of()), "sqs", none)).isEmpty();
        assertThat(ConfigChecks.problems(config(Map.of("fanout.default-type", "digest")), "sqs", TYPES)).isEmpty();
    }
}

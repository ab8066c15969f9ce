package dev.fanout.fanin;

import static dev.fanout.fanin.SqsVisibilityTest.inFlight;
import static dev.fanout.fanin.SqsVisibilityTest.intercepted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.fanout.engine.Deadline;
import dev.fanout.testing.ElasticMq;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.SqsException;

/**
 * {@link SqsVisibility}'s rules one by one: requests of 10 per queue, the halving of a request refused whole, what is
 * retried and counted, and the words of each give-up. ElasticMQ answers; a wrapper injects the faults.
 */
class SqsVisibilityRulesTest {

    static final ElasticMq sqs = ElasticMq.shared();
    static final SqsVisibility.Settings ONE_AT_A_TIME = new SqsVisibility.Settings(1, 3, Duration.ofMillis(1),
            Duration.ofMillis(5), Duration.ofMillis(20));

    static SqsException error(int status, String code) {
        return (SqsException) SqsException.builder().statusCode(status).message(code)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).errorMessage("injected").build()).build();
    }

    static List<SqsVisibility.Change> changes(String queue, List<Message> messages, Duration timeout) {
        return messages.stream().map(m -> new SqsVisibility.Change(queue, m.receiptHandle(), timeout)).toList();
    }

    static Deadline tenSeconds() {
        return Deadline.after(Duration.ofSeconds(10));
    }

    @Test
    void settingsRefuseLessThanOneRequestOrAttempt() {
        assertThatThrownBy(() -> new SqsVisibility.Settings(0, 1, Duration.ZERO, Duration.ZERO, Duration.ZERO))
                .hasMessage("concurrency and max attempts must be at least 1, were 0 and 1");
        assertThatThrownBy(() -> new SqsVisibility.Settings(1, 0, Duration.ZERO, Duration.ZERO, Duration.ZERO))
                .hasMessage("concurrency and max attempts must be at least 1, were 1 and 0");
        assertThat(new SqsVisibility.Settings(1, 1, Duration.ZERO, Duration.ZERO, Duration.ZERO).maxAttempts()).isOne();
        assertThat(SqsVisibility.Settings.defaults()).isEqualTo(new SqsVisibility.Settings(8, 3, Duration.ofMillis(20),
                Duration.ofMillis(200), Duration.ofMillis(50)));
    }

    @Test
    void eachQueueGetsItsOwnRequestsOfAtMostTenWithTheTimeoutInSeconds() {
        String first = sqs.createQueue("visibility-rules-a");
        String second = sqs.createQueue("visibility-rules-b");
        List<SqsVisibility.Change> changes = new ArrayList<>(changes(first, inFlight(first, 25), Duration.ofSeconds(30)));
        changes.addAll(changes(second, inFlight(second, 3), Duration.ofSeconds(7)));
        List<String> requests = new CopyOnWriteArrayList<>();
        var client = intercepted((request, real) -> {
            requests.add((request.queueUrl().equals(first) ? "a" : "b") + request.entries().size() + "x"
                    + request.entries().stream().map(ChangeMessageVisibilityBatchRequestEntry::visibilityTimeout).distinct()
                            .toList());
            return real.changeMessageVisibilityBatch(request);
        });

        var result = new SqsVisibility(client, ONE_AT_A_TIME).change(changes, tenSeconds());

        assertThat(requests).containsExactly("a10x[30]", "a10x[30]", "a5x[30]", "b3x[7]");
        assertThat(result.changedCount()).isEqualTo(28);
        assertThat(List.of(result.requests(), result.retries(), result.throttled())).containsExactly(4, 0, 0);
        assertThat(SqsVisibilityTest.receiveNow(first, 300)).isEmpty();
    }

    @Test
    void aRequestRefusedWholeIsHalvedUntilTheBadEntryStandsAlone() {
        String queue = sqs.createQueue("visibility-rules-halving");
        List<Message> messages = inFlight(queue, 4);
        List<SqsVisibility.Change> changes = new ArrayList<>(changes(queue, messages, Duration.ZERO));
        changes.set(2, new SqsVisibility.Change(queue, "refused-whole", Duration.ZERO));
        List<Integer> sizes = new CopyOnWriteArrayList<>();
        var client = intercepted((request, real) -> {
            sizes.add(request.entries().size());
            if (request.entries().stream().anyMatch(e -> e.receiptHandle().equals("refused-whole"))) {
                throw error(400, "InvalidParameterValue");
            }
            return real.changeMessageVisibilityBatch(request);
        });

        var result = new SqsVisibility(client, ONE_AT_A_TIME).change(changes, tenSeconds());

        assertThat(sizes).containsExactly(4, 2, 2, 1, 1);
        assertThat(result.failures()).containsExactly(null, null,
                "ChangeMessageVisibilityBatch failed: HTTP 400 InvalidParameterValue: injected", null);
        assertThat(List.of(result.requests(), result.retries(), result.throttled())).containsExactly(5, 0, 0);
        assertThat(SqsVisibilityTest.indexes(SqsVisibilityTest.receiveNow(queue, 300))).containsExactlyInAnyOrder(0, 1, 3);
    }

    @Test
    void aRefusalAboutTheCallerIsNeitherHalvedNorRetried() {
        String queue = sqs.createQueue("visibility-rules-denied");
        var calls = new AtomicInteger();
        var client = intercepted((request, real) -> {
            calls.incrementAndGet();
            throw error(403, "AccessDenied");
        });

        var result = new SqsVisibility(client, ONE_AT_A_TIME).change(changes(queue, inFlight(queue, 3), Duration.ZERO),
                tenSeconds());

        assertThat(calls).hasValue(1);
        assertThat(result.failures()).containsOnly("ChangeMessageVisibilityBatch failed: HTTP 403 AccessDenied: injected");
        assertThat(List.of(result.requests(), result.retries(), result.throttled())).containsExactly(1, 0, 0);
    }

    @Test
    void aServerErrorIsRetriedAndAThrottledEntryIsCountedAndRetried() {
        String queue = sqs.createQueue("visibility-rules-retried");
        List<Message> messages = inFlight(queue, 2);
        var calls = new AtomicInteger();
        var client = intercepted((request, real) -> switch (calls.incrementAndGet()) {
            case 1 -> throw error(500, "InternalError");
            case 2 -> {
                // the first entry changed, the second throttled
                var forwarded = request.entries().stream().filter(e -> e.id().equals("0")).toList();
                var answer = real.changeMessageVisibilityBatch(request.toBuilder().entries(forwarded).build());
                yield answer.toBuilder().failed(BatchResultErrorEntry.builder().id("1").senderFault(false)
                        .code("RequestThrottled").message("slow down").build()).build();
            }
            default -> real.changeMessageVisibilityBatch(request);
        });

        var result = new SqsVisibility(client, ONE_AT_A_TIME).change(changes(queue, messages, Duration.ZERO), tenSeconds());

        assertThat(result.failures()).containsExactly(null, null);
        assertThat(List.of(result.requests(), result.retries(), result.throttled())).containsExactly(3, 2, 1);
        assertThat(SqsVisibilityTest.indexes(SqsVisibilityTest.receiveNow(queue, 300))).containsExactlyInAnyOrder(0, 1);
    }

    @Test
    void withOneAttemptTheGiveUpSaysSo() {
        String queue = sqs.createQueue("visibility-rules-once");
        var client = intercepted((request, real) -> {
            throw error(500, "InternalError");
        });

        var result = new SqsVisibility(client, new SqsVisibility.Settings(1, 1, Duration.ofMillis(1), Duration.ofMillis(5),
                Duration.ofMillis(20))).change(changes(queue, inFlight(queue, 1), Duration.ZERO), tenSeconds());

        assertThat(result.failures()).containsExactly(
                "gave up after 1 attempt: ChangeMessageVisibilityBatch failed: HTTP 500 InternalError: injected");
        assertThat(List.of(result.requests(), result.retries())).containsExactly(1, 0);
    }

    @Test
    void aPauseThatWouldLeaveTooLittleTimeIsNotTaken() {
        String queue = sqs.createQueue("visibility-rules-nopause");
        var calls = new AtomicInteger();
        var client = intercepted((request, real) -> {
            calls.incrementAndGet();
            throw error(500, "InternalError");
        });
        // a pause of up to 10 s, 2 s left: the first pause drawn above 1.98 s leaves less than the 20 ms a call needs
        var slow = new SqsVisibility.Settings(1, 50, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofMillis(20));

        long start = System.nanoTime();
        var result = new SqsVisibility(client, slow).change(changes(queue, inFlight(queue, 1), Duration.ZERO),
                Deadline.after(Duration.ofSeconds(2)));

        assertThat(result.failures()).containsExactly(
                "no time left to retry: ChangeMessageVisibilityBatch failed: HTTP 500 InternalError: injected");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(2_500));
        assertThat(result.requests()).isEqualTo(calls.get());
        assertThat(result.retries()).isEqualTo(calls.get() - 1);
    }

    @Test
    void anInterruptedPauseEndsTheChangesAndKeepsTheInterrupt() throws Exception {
        String queue = sqs.createQueue("visibility-rules-interrupted");
        List<Message> messages = inFlight(queue, 1);
        var client = intercepted((request, real) -> {
            Thread.currentThread().interrupt(); // as if the invocation were being torn down while it waited
            throw error(500, "InternalError");
        });
        var slow = new SqsVisibility.Settings(1, 3, Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofMillis(20));

        var result = new SqsVisibility(client, slow).change(changes(queue, messages, Duration.ZERO), tenSeconds());

        assertThat(result.failures()).containsExactly(
                "interrupted before retrying: ChangeMessageVisibilityBatch failed: HTTP 500 InternalError: injected");
        assertThat(List.of(result.requests(), result.retries())).containsExactly(1, 1);
        // one batch runs on the calling thread, whose flag is kept for whoever called
        assertThat(Thread.interrupted()).as("the interrupt is kept").isTrue();
    }

    @Test
    void aChangeNamesWhatItLacks() {
        assertThatThrownBy(() -> new SqsVisibility.Change(null, "h", Duration.ZERO)).hasMessage("queueUrl");
        assertThatThrownBy(() -> new SqsVisibility.Change("q", null, Duration.ZERO)).hasMessage("receiptHandle");
        assertThatThrownBy(() -> new SqsVisibility.Change("q", "h", null)).hasMessage("timeout");
        assertThatThrownBy(() -> new SqsVisibility(null, ONE_AT_A_TIME)).hasMessage("sqs");
        assertThatThrownBy(() -> new SqsVisibility(sqs.client(), null)).hasMessage("settings");
    }

    @Test
    void aResultCountsTheChanged() {
        var result = new SqsVisibility.Result(java.util.Arrays.asList(null, "no", null), 1, 0, 0);
        assertThat(result.changedCount()).isEqualTo(2);
        assertThat(result.changed(0)).isTrue();
        assertThat(result.changed(1)).isFalse();
    }
}

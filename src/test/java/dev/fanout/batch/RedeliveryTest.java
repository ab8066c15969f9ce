package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.Metric;
import dev.fanout.batch.Redelivery.Source;
import dev.fanout.batch.RedeliveryBackoff.Delay;
import dev.fanout.batch.RedeliveryBackoff.Reason;
import dev.fanout.engine.Cancellation;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Outcome;
import dev.fanout.fanin.SqsVisibility;
import dev.fanout.testing.ElasticMq;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * {@link Redelivery} on its own, against ElasticMQ with real receipt handles: which records get which delay, what is
 * changed on the queue, what the summary says and what is logged. The SQS entry point's end-to-end cases are in
 * {@code SqsRedeliveryTest}.
 */
class RedeliveryTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final ElasticMq sqs = ElasticMq.shared();
    static final Outcome.Timing TIMING = new Outcome.Timing(Instant.EPOCH, Duration.ofMillis(3));

    /** Always the top of the range: full jitter's delay is its ceiling. */
    static final RandomGenerator TOP = new RandomGenerator() {
        @Override
        public long nextLong() {
            throw new AssertionError("only bounded draws");
        }

        @Override
        public long nextLong(long origin, long bound) {
            return bound - 1;
        }
    };

    /** Base {@code base} s, max 15 min, unfinished 5 s, full jitter drawing its top. */
    static Redelivery redelivery(int base, Duration reserve) {
        return new Redelivery(new RedeliveryBackoff(new RedeliveryBackoff.Settings(Duration.ofSeconds(base),
                Duration.ofMinutes(15), Duration.ofSeconds(5), RedeliveryBackoff.Jitter.FULL), () -> TOP),
                new SqsVisibility(sqs.client(), SqsVisibility.Settings.defaults()), reserve);
    }

    static Outcome<JsonNode> ok() {
        return new Outcome.Succeeded<>(MAPPER.nullNode(), TIMING);
    }

    static Outcome<JsonNode> failed() {
        return new Outcome.Failed<>(new IllegalStateException("down"), true, TIMING);
    }

    static Outcome<JsonNode> asking(int seconds) {
        return new Outcome.Failed<>(new IllegalStateException("busy"), true, TIMING, Optional.of(Duration.ofSeconds(seconds)));
    }

    /** A failure whose service gave a Retry-After it could not read. */
    static Outcome<JsonNode> unreadable(String text) {
        class Unreadable extends IllegalStateException implements dev.fanout.engine.RetryAfter {
            Unreadable() {
                super("HTTP 503");
            }

            @Override
            public Optional<Duration> retryAfter() {
                return Optional.empty();
            }

            @Override
            public Optional<String> unreadableRetryAfter() {
                return Optional.of(text);
            }
        }
        return new Outcome.Failed<>(new Unreadable(), true, TIMING);
    }

    /** A queue's messages, received (in flight for 300 s), in the order sent. */
    record Received(String queue, List<Message> messages) {

        static Received of(String name, int n) {
            String queue = sqs.createQueue(name);
            for (int i = 0; i < n; i++) {
                int index = i;
                sqs.client().sendMessage(r -> r.queueUrl(queue).messageBody("m" + index).messageAttributes(
                        Map.of("n", MessageAttributeValue.builder().dataType("String").stringValue(Integer.toString(index))
                                .build())));
            }
            List<Message> all = receivable(queue);
            assertThat(all).hasSize(n);
            all.sort((a, b) -> Integer.compare(n(a), n(b)));
            return new Received(queue, all);
        }

        List<SourceRecord> records(Integer receiveCount, String... groups) {
            List<SourceRecord> records = new ArrayList<>();
            for (int i = 0; i < messages.size(); i++) {
                String group = i < groups.length ? groups[i] : null;
                records.add(new SourceRecord(messages.get(i).messageId(), messages.get(i).body(), Optional.ofNullable(group),
                        receiveCount, null, null));
            }
            return records;
        }

        List<Source> sources() {
            return messages.stream().map(m -> new Source(m.receiptHandle(), Optional.of(queue))).collect(
                    Collectors.toCollection(ArrayList::new));
        }

        Set<Integer> receivableNow() {
            return receivable(queue).stream().map(RedeliveryTest::n).collect(Collectors.toSet());
        }
    }

    static int n(Message m) {
        return Integer.parseInt(m.messageAttributes().get("n").stringValue());
    }

    static List<Message> receivable(String queue) {
        List<Message> all = new ArrayList<>();
        while (true) {
            var batch = sqs.client().receiveMessage(r -> r.queueUrl(queue).maxNumberOfMessages(10).waitTimeSeconds(0)
                    .visibilityTimeout(300).messageAttributeNames("All")).messages();
            if (batch.isEmpty()) {
                return all;
            }
            all.addAll(batch);
        }
    }

    @SafeVarargs
    static RecordBatch.Answer answer(boolean[] acknowledged, Outcome<JsonNode>... outcomes) {
        return new RecordBatch.Answer(acknowledged, MAPPER.createObjectNode(), Arrays.asList(outcomes));
    }

    static boolean[] acked(boolean... acknowledged) {
        return acknowledged;
    }

    static List<Object> figures(ObjectNode s) {
        return List.of(figure(s, Metric.RECORDS_DELAYED), figure(s, Metric.RECORDS_NOT_DELAYED),
                figure(s, Metric.VISIBILITY_REQUESTS), figure(s, Metric.VISIBILITY_FAILURES), figure(s, Metric.REDELIVERY_FAULTS));
    }

    static List<Long> seconds(List<Delay> delays) {
        return delays.stream().map(d -> d == null ? null : d.delay().toSeconds()).toList();
    }

    /** The warnings {@link Redelivery} logs while {@code run} runs. */
    static List<String> warnings(Runnable run) {
        var logger = Logger.getLogger(Redelivery.class.getName());
        List<String> warnings = new CopyOnWriteArrayList<>();
        var capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() == Level.WARNING.intValue()) {
                    warnings.add(record instanceof org.jboss.logmanager.ExtLogRecord ext ? ext.getFormattedMessage()
                            : String.format(record.getMessage().replace("%d", "%s"), record.getParameters()));
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try {
            run.run();
        } finally {
            logger.removeHandler(capture);
        }
        return warnings;
    }

    @Nested
    class Delays {

        @Test
        void eachHandedBackRecordIsChangedToItsDelayAndNothingIsLogged() {
            var q = Received.of("redelivery-unit-mixed", 5);
            // 0: asked 30 s; 1: acknowledged; 2: failed (base 0: 0 s); 3: cut off (unfinished: 5 s); 4: failed
            var answer = answer(acked(false, true, false, false, false), asking(30), ok(), failed(),
                    new Outcome.TimedOut<>(Cancellation.Cause.CUT_OFF, TIMING), failed());
            Redelivery.Report[] report = new Redelivery.Report[1];

            List<String> warnings = warnings(() -> report[0] = redelivery(0, Duration.ofMillis(100))
                    .delay(q.records(1), q.sources(), false, answer, Deadline.after(Duration.ofSeconds(5))));

            assertThat(seconds(report[0].delays())).containsExactly(30L, null, 0L, 5L, 0L);
            assertThat(report[0].changed()).containsExactly(true, false, true, true, true);
            ObjectNode s = answer.summary();
            assertThat(figures(s)).containsExactly(4, 0, 1, 0, 0);
            assertThat(figure(s, Metric.DELAY_MIN_SECONDS)).isZero();
            assertThat(figure(s, Metric.DELAY_MAX_SECONDS)).isEqualTo(30);
            assertThat(warnings).isEmpty();
            // 1 is in flight until Lambda deletes it; 0 and 3 stay away; 2 and 4 are back at once
            assertThat(q.receivableNow()).isEqualTo(Set.of(2, 4));
        }

        @Test
        void theSmallestAndLargestDelayAreFoundWhereverTheyAre() {
            var q = Received.of("redelivery-unit-minmax", 3);
            var answer = answer(acked(false, false, false), asking(5), asking(40), asking(3));

            redelivery(0, Duration.ofMillis(100)).delay(q.records(1), q.sources(), false, answer,
                    Deadline.after(Duration.ofSeconds(5)));

            assertThat(figure(answer.summary(), Metric.DELAY_MIN_SECONDS)).isEqualTo(3);
            assertThat(figure(answer.summary(), Metric.DELAY_MAX_SECONDS)).isEqualTo(40);
        }

        @Test
        void theReceiveCountGivesTheCeiling() {
            var q = Received.of("redelivery-unit-count", 2);
            var answer = answer(acked(false, false), failed(), failed());

            var report = redelivery(10, Duration.ofMillis(100)).delay(q.records(3), q.sources(), false, answer,
                    Deadline.after(Duration.ofSeconds(5)));

            assertThat(seconds(report.delays())).containsExactly(40L, 40L);
        }

        @Test
        void onAFifoSourceTheRecordsBehindADelayedOneOfTheirGroupGetItsDelay() {
            var q = Received.of("redelivery-unit-groups", 3);
            var answer = answer(acked(false, false, false), asking(30), failed(), failed());

            var fifo = redelivery(0, Duration.ofMillis(100)).delay(q.records(1, "g", "g", "h"), q.sources(), true, answer,
                    Deadline.after(Duration.ofSeconds(5)));

            assertThat(seconds(fifo.delays())).containsExactly(30L, 30L, 0L);
            assertThat(fifo.delays().get(1).reason()).isEqualTo(Reason.HELD_BEHIND);
        }

        @Test
        void onAStandardSourceGroupsHoldNothingBack() {
            var q = Received.of("redelivery-unit-nogroups", 2);
            var answer = answer(acked(false, false), asking(30), failed());

            var standard = redelivery(0, Duration.ofMillis(100)).delay(q.records(1, "g", "g"), q.sources(), false, answer,
                    Deadline.after(Duration.ofSeconds(5)));

            assertThat(seconds(standard.delays())).containsExactly(30L, 0L);
            assertThat(standard.delays().get(1).reason()).isEqualTo(Reason.BACKOFF);
        }

        @Test
        void withNothingHandedBackNoCallIsMade() {
            var q = Received.of("redelivery-unit-none", 2);
            var answer = answer(acked(true, true), ok(), ok());

            var report = redelivery(0, Duration.ofMillis(100)).delay(q.records(1), q.sources(), false, answer,
                    Deadline.after(Duration.ofSeconds(5)));

            assertThat(report.delays()).containsExactly(null, null);
            assertThat(report.changed()).containsExactly(false, false);
            assertThat(figures(answer.summary())).containsExactly(0, 0, 0, 0, 0);
            assertThat(answer.summary().has(Metric.DELAY_MIN_SECONDS.key())).isFalse();
            assertThat(answer.summary().has(Metric.DELAY_MAX_SECONDS.key())).isFalse();
        }

        @Test
        void aSkippedBatchIsLeftUntouched() {
            var q = Received.of("redelivery-unit-skipped", 2);
            var answer = new RecordBatch.Answer(new boolean[2], MAPPER.createObjectNode(), null);

            var report = redelivery(0, Duration.ofMillis(100)).delay(q.records(1), q.sources(), false, answer,
                    Deadline.after(Duration.ofSeconds(5)));

            assertThat(report.delays()).containsExactly(null, null);
            assertThat(report.changed()).containsExactly(false, false);
            assertThat(figures(answer.summary())).containsExactly(0, 2, 0, 0, 0);
            assertThat(answer.summary().has(Metric.DELAY_MIN_SECONDS.key())).isFalse();
            assertThat(q.receivableNow()).as("still in flight: nothing changed").isEmpty();
        }

        @Test
        void anEmptyBatchIsNoSkippedOne() {
            var answer = new RecordBatch.Answer(new boolean[0], MAPPER.createObjectNode(), null);

            var report = redelivery(0, Duration.ofMillis(100)).delay(List.of(), List.of(), false, answer,
                    Deadline.after(Duration.ofSeconds(5)));

            assertThat(report.delays()).isEmpty();
            assertThat(figures(answer.summary())).containsExactly(0, 0, 0, 0, 0);
        }
    }

    @Nested
    class Faults {

        @Test
        void recordsWithoutHandleOrQueueAreNotDelayedCountedAndLoggedOnce() {
            var q = Received.of("redelivery-unit-faults", 4);
            List<Source> sources = q.sources();
            sources.set(0, new Source(null, Optional.of(q.queue())));
            sources.set(1, new Source("", Optional.of(q.queue())));
            sources.set(2, new Source(q.messages().get(2).receiptHandle(), Optional.empty()));
            var answer = answer(acked(false, false, false, false), failed(), failed(), failed(), failed());
            Redelivery.Report[] report = new Redelivery.Report[1];

            List<String> warnings = warnings(() -> report[0] = redelivery(0, Duration.ofMillis(100))
                    .delay(q.records(null), sources, false, answer, Deadline.after(Duration.ofSeconds(5))));

            assertThat(report[0].changed()).containsExactly(false, false, false, true);
            // every record without a receive count is a fault, and so is each missing handle and queue
            assertThat(figures(answer.summary())).containsExactly(1, 3, 1, 0, 7);
            assertThat(warnings).containsExactly("3 of 4 handed-back records not delayed (they come back at the queue's"
                    + " visibility timeout); input faults {NO_QUEUE_URL=1, NO_RECEIPT_HANDLE=2, NO_RECEIVE_COUNT=4}");
            assertThat(q.receivableNow()).isEqualTo(Set.of(3));
        }

        @Test
        void whenNoRecordCanBeChangedNoCallIsMade() {
            var q = Received.of("redelivery-unit-nocall", 1);
            var answer = answer(acked(false), failed());

            redelivery(0, Duration.ofMillis(100)).delay(q.records(1), List.of(new Source(null, Optional.empty())), false,
                    answer, Deadline.after(Duration.ofSeconds(5)));

            assertThat(figures(answer.summary())).containsExactly(0, 1, 0, 0, 1);
            assertThat(answer.summary().has(Metric.DELAY_MIN_SECONDS.key())).isFalse();
        }

        @Test
        void aFaultAloneIsLoggedEvenWhenEveryRecordWasDelayed() {
            var q = Received.of("redelivery-unit-faultonly", 1);
            var answer = answer(acked(false), asking(-3));

            List<String> warnings = warnings(() -> redelivery(0, Duration.ofMillis(100)).delay(q.records(1), q.sources(),
                    false, answer, Deadline.after(Duration.ofSeconds(5))));

            assertThat(figures(answer.summary())).containsExactly(1, 0, 1, 0, 1);
            assertThat(warnings).containsExactly("0 of 1 handed-back records not delayed (they come back at the queue's"
                    + " visibility timeout); input faults {NEGATIVE_RETRY_AFTER=1}");
        }

        @Test
        void theFirstUnreadableRetryAfterIsQuotedInTheWarning() {
            var q = Received.of("redelivery-unit-unreadable", 3);
            var answer = answer(acked(false, false, false), failed(), unreadable("soon"), unreadable("-5"));

            List<String> warnings = warnings(() -> redelivery(0, Duration.ofMillis(100)).delay(q.records(1), q.sources(),
                    false, answer, Deadline.after(Duration.ofSeconds(5))));

            assertThat(figures(answer.summary())).containsExactly(3, 0, 1, 0, 2);
            assertThat(warnings).containsExactly("0 of 3 handed-back records not delayed (they come back at the queue's"
                    + " visibility timeout); input faults {UNREADABLE_RETRY_AFTER=2}; first unreadable Retry-After: \"soon\"");
        }

        @Test
        void aRefusedChangeIsLoggedWithTheFirstFailure() {
            var q = Received.of("redelivery-unit-refused", 2);
            List<Source> sources = q.sources();
            sources.set(1, new Source("garbage", Optional.of(q.queue())));
            var answer = answer(acked(false, false), failed(), failed());
            Redelivery.Report[] report = new Redelivery.Report[1];

            List<String> warnings = warnings(() -> report[0] = redelivery(0, Duration.ofMillis(100))
                    .delay(q.records(1), sources, false, answer, Deadline.after(Duration.ofSeconds(5))));

            assertThat(report[0].changed()).containsExactly(true, false);
            assertThat(figures(answer.summary())).containsExactly(1, 1, 1, 1, 0);
            assertThat(warnings).hasSize(1);
            assertThat(warnings.getFirst()).startsWith("1 of 2 handed-back records not delayed (they come back at the"
                    + " queue's visibility timeout); first failure: SQS refused the change: ReceiptHandleIsInvalid")
                    .doesNotContain("input faults");
        }

        @Test
        void theResponseReserveIsKeptBackFromTheDeadline() {
            var q = Received.of("redelivery-unit-reserve", 2);
            var answer = answer(acked(false, false), failed(), failed());
            Redelivery.Report[] report = new Redelivery.Report[1];

            // 5 s left, 10 s kept for the answer: no time for a change
            List<String> warnings = warnings(() -> report[0] = redelivery(0, Duration.ofSeconds(10))
                    .delay(q.records(1), q.sources(), false, answer, Deadline.after(Duration.ofSeconds(5))));

            assertThat(report[0].changed()).containsExactly(false, false);
            assertThat(figures(answer.summary())).containsExactly(0, 2, 0, 2, 0);
            assertThat(warnings).containsExactly("2 of 2 handed-back records not delayed (they come back at the queue's"
                    + " visibility timeout); first failure: no time left to change the visibility");
            assertThat(q.receivableNow()).isEmpty();
        }
    }

    @Test
    void theRedeliveryKeepsItsPartsAndRefusesNone() {
        var backoff = new RedeliveryBackoff(new RedeliveryBackoff.Settings(Duration.ofSeconds(1), Duration.ofSeconds(2),
                Duration.ZERO, RedeliveryBackoff.Jitter.FULL));
        var visibility = new SqsVisibility(sqs.client(), SqsVisibility.Settings.defaults());
        var redelivery = new Redelivery(backoff, visibility, Duration.ofMillis(70));
        assertThat(redelivery.backoff()).isSameAs(backoff);
        assertThat(redelivery.backoff().settings()).isSameAs(backoff.settings());
        assertThat(backoff.settings().max()).isEqualTo(Duration.ofSeconds(2));
        assertThat(redelivery.responseReserve()).isEqualTo(Duration.ofMillis(70));
        assertThatThrownBy(() -> new Redelivery(null, visibility, Duration.ZERO)).hasMessage("backoff");
        assertThatThrownBy(() -> new Redelivery(backoff, null, Duration.ZERO)).hasMessage("visibility");
        assertThatThrownBy(() -> new Redelivery(backoff, visibility, null)).hasMessage("responseReserve");
        assertThatThrownBy(() -> new Source("h", null)).hasMessage("queueUrl");
    }

    /** One of the redelivery's figures in an invocation's summary. */
    static int figure(com.fasterxml.jackson.databind.JsonNode summary, Metric metric) {
        return summary.get(metric.key()).asInt();
    }
}

package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
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

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.Metric;
import dev.fanout.testing.FanoutSettings;
import dev.fanout.batch.RecordBatch;
import dev.fanout.batch.Redelivery;
import dev.fanout.batch.RedeliveryBackoff;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.RetryLaterException;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.QueueUrls;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.fanin.SqsVisibility;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.SqsEvents;
import dev.fanout.work.ItemParser;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.builtin.DelayFunction;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * Handed-back records get their delay as a new visibility timeout, against ElasticMQ with real receipt handles:
 * messages are received as Lambda's event source mapping receives them and the event is built from them, as the
 * harness's LocalEventSource does. A record delayed 0 s is receivable at once; one delayed 30 s is not.
 */
class SqsRedeliveryTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final ElasticMq sqs = ElasticMq.shared();

    /** Always draws the top of the range: the backoff's delay is its ceiling. */
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

    static ItemFunctions handlers() {
        return TestFunctions.builder(MAPPER)
                .add(new DelayFunction(Duration.ofMinutes(1)))
                .register("echo", (payload, context) -> switch (payload.path("mode").asText()) {
                    case "fail" -> throw new IllegalStateException("down");
                    case "later" -> throw new RetryLaterException(
                            Duration.ofSeconds(payload.path("seconds").asLong()), "busy");
                    default -> Map.of("ok", true);
                }).build();
    }

    static SqsBatchProcessor processor(String results, RedeliveryBackoff.Settings backoff) {
        return processor(results, backoff, handlers());
    }

    static SqsBatchProcessor processor(String results, RedeliveryBackoff.Settings backoff, ItemFunctions handlers) {
        var sinkSettings = FanoutSettings.results(results);
        var batch = new RecordBatch(new WorkerPool(Limits.of(16).withCutoffMargin(Duration.ofMillis(1500))), handlers,
                new ItemParser(MAPPER, Optional.empty()), new SqsResultsSink(sqs.client(), sinkSettings), MAPPER,
                new RecordBatch.Settings(Duration.ofMillis(500), sinkSettings.fifo()));
        var redelivery = new Redelivery(new RedeliveryBackoff(backoff, () -> TOP),
                new SqsVisibility(sqs.client(), SqsVisibility.Settings.defaults()), Duration.ofMillis(100));
        return new SqsBatchProcessor(batch, Optional.of(redelivery), arn -> QueueUrls.fromArn(arn, Optional.of(sqs.endpoint())));
    }

    static RedeliveryBackoff.Settings backoff(int baseSeconds) {
        return new RedeliveryBackoff.Settings(Duration.ofSeconds(baseSeconds), Duration.ofMinutes(15), Duration.ZERO,
                RedeliveryBackoff.Jitter.FULL);
    }

    static String echo(String mode) {
        return SqsEvents.item("echo", "{\"mode\":\"" + mode + "\"}");
    }

    /** Sends the bodies (message attribute "n" = index) and receives them all, in flight for 300 s, in index order. */
    static List<Message> received(String queue, List<String> bodies, Map<String, String> groups) {
        List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
        for (int i = 0; i < bodies.size(); i++) {
            var entry = SendMessageBatchRequestEntry.builder().id("e" + i).messageBody(bodies.get(i)).messageAttributes(
                    Map.of("n", software.amazon.awssdk.services.sqs.model.MessageAttributeValue.builder()
                            .dataType("String").stringValue(Integer.toString(i)).build()));
            if (groups != null) {
                entry.messageGroupId(groups.get("e" + i)).messageDeduplicationId("d" + i);
            }
            entries.add(entry.build());
        }
        for (int from = 0; from < entries.size(); from += 10) {
            var chunk = entries.subList(from, Math.min(from + 10, entries.size()));
            sqs.client().sendMessageBatch(r -> r.queueUrl(queue).entries(chunk));
        }
        List<Message> all = receiveNow(queue);
        assertThat(all).hasSize(bodies.size());
        all.sort((a, b) -> Integer.compare(n(a), n(b)));
        return all;
    }

    static int n(Message m) {
        return Integer.parseInt(m.messageAttributes().get("n").stringValue());
    }

    static List<Message> receiveNow(String queue) {
        List<Message> all = new ArrayList<>();
        while (true) {
            var batch = sqs.client().receiveMessage(r -> r.queueUrl(queue).maxNumberOfMessages(10).waitTimeSeconds(0)
                    .visibilityTimeout(300).messageSystemAttributeNamesWithStrings("All").messageAttributeNames("All"))
                    .messages();
            if (batch.isEmpty()) {
                return all;
            }
            all.addAll(batch);
        }
    }

    static Set<Integer> receivableNow(String queue) {
        return receiveNow(queue).stream().map(SqsRedeliveryTest::n).collect(Collectors.toSet());
    }

    /** The event Lambda's event source mapping builds from received messages ({@code change} may edit each record). */
    static SQSEvent event(String queue, List<Message> messages, java.util.function.BiConsumer<Integer, ObjectNode> change) {
        String arn = ElasticMq.attribute(sqs.client(), queue, QueueAttributeName.QUEUE_ARN);
        ObjectNode event = MAPPER.createObjectNode();
        ArrayNode records = event.putArray("Records");
        for (Message m : messages) {
            Map<String, String> attributes = new java.util.TreeMap<>();
            m.messageAttributes().forEach((name, value) -> attributes.put(name, value.stringValue()));
            SqsEvents.addRecord(records, m.messageId(), m.receiptHandle(), m.body(), m.attributesAsStrings(),
                    attributes, m.md5OfBody(), arn);
            change.accept(n(m), (ObjectNode) records.get(records.size() - 1));
        }
        return SqsEvents.parse(event.toString());
    }

    static Set<Integer> reported(SqsBatchProcessor.Invocation invocation, List<Message> messages) {
        Set<String> ids = invocation.response().getBatchItemFailures().stream().map(f -> f.getItemIdentifier())
                .collect(Collectors.toSet());
        return messages.stream().filter(m -> ids.contains(m.messageId())).map(SqsRedeliveryTest::n).collect(Collectors.toSet());
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
                            : record.getMessage());
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
    class StandardQueue {

        @Test
        void eachHandedBackRecordComesBackAfterItsDelayAndTheAnswerIsOnTime() {
            String work = sqs.createQueue("redelivery-work");
            String results = sqs.createQueue("redelivery-results");
            // 0: succeeds; 1: fails (base 0 s: back at once); 2: asks for 30 s; 3: cut off (unfinished: 0 s)
            List<Message> messages = received(work, List.of(echo("ok"), echo("fail"),
                    SqsEvents.item("echo", "{\"mode\":\"later\",\"seconds\":30}"),
                    SqsEvents.item("delay", "{\"millis\":60000}")), null);
            var processor = processor(results, backoff(0));
            SQSEvent event = event(work, messages, (i, r) -> {
            });
            var deadline = Deadline.after(Duration.ofMillis(2500));

            var invocation = processor.process(event, deadline);

            assertThat(deadline.remaining()).isPositive();
            assertThat(reported(invocation, messages)).isEqualTo(Set.of(1, 2, 3));
            // the acknowledged one stays in flight until Lambda deletes it; the one asked 30 s later stays away
            assertThat(receivableNow(work)).isEqualTo(Set.of(1, 3));
            ObjectNode s = invocation.summary();
            assertThat(List.of(figure(s, Metric.RECORDS_DELAYED), figure(s, Metric.RECORDS_NOT_DELAYED),
                    figure(s, Metric.VISIBILITY_REQUESTS), figure(s, Metric.VISIBILITY_FAILURES), figure(s, Metric.REDELIVERY_FAULTS),
                    figure(s, Metric.DELAY_MIN_SECONDS), figure(s, Metric.DELAY_MAX_SECONDS)))
                    .containsExactly(3, 0, 1, 0, 0, 0, 30);
        }

        @Test
        void theBackoffGrowsWithTheReceiveCount() {
            String work = sqs.createQueue("redelivery-count");
            String results = sqs.createQueue("redelivery-count-results");
            List<Message> messages = received(work, List.of(echo("fail"), echo("fail")), null);
            // base 0 s and max 15 min: the ceiling stays 0 whatever the count; base 10 s: the 3rd receive's is 40 s
            var invocation = processor(results, backoff(10)).process(event(work, messages, (i, r) -> {
                ((ObjectNode) r.get("attributes")).put("ApproximateReceiveCount", i == 0 ? "3" : "1");
            }), Deadline.after(Duration.ofSeconds(5)));

            assertThat(figure(invocation.summary(), Metric.DELAY_MIN_SECONDS)).isEqualTo(10);
            assertThat(figure(invocation.summary(), Metric.DELAY_MAX_SECONDS)).isEqualTo(40);
            assertThat(receivableNow(work)).isEmpty();
        }

        @Test
        void aBatchSkippedForWantOfTimeIsLeftUntouched() {
            String work = sqs.createQueue("redelivery-skipped");
            String results = sqs.createQueue("redelivery-skipped-results");
            List<Message> messages = received(work, List.of(echo("ok"), echo("fail")), null);

            // 1 s left, a cut-off margin of 1.5 s: the batch is skipped, every record handed back
            var invocation = processor(results, backoff(0)).process(event(work, messages, (i, r) -> {
            }), Deadline.after(Duration.ofSeconds(1)));

            assertThat(reported(invocation, messages)).isEqualTo(Set.of(0, 1));
            assertThat(figure(invocation.summary(), Metric.RECORDS_NOT_DELAYED)).isEqualTo(2);
            assertThat(figure(invocation.summary(), Metric.VISIBILITY_REQUESTS)).isZero();
            assertThat(receivableNow(work)).isEmpty(); // in flight until the receive's own 300 s end
        }

        @Test
        void turnedOffNothingIsChanged() {
            String work = sqs.createQueue("redelivery-off");
            String results = sqs.createQueue("redelivery-off-results");
            List<Message> messages = received(work, List.of(echo("fail")), null);
            var sinkSettings = FanoutSettings.results(results);
            var plain = new SqsBatchProcessor(new RecordBatch(new WorkerPool(Limits.of(4).withCutoffMargin(Duration.ofSeconds(1))),
                    handlers(), new ItemParser(MAPPER, Optional.empty()), new SqsResultsSink(sqs.client(), sinkSettings),
                    MAPPER, new RecordBatch.Settings(Duration.ofMillis(200), false)));

            var invocation = plain.process(event(work, messages, (i, r) -> {
            }), Deadline.after(Duration.ofSeconds(5)));

            assertThat(reported(invocation, messages)).isEqualTo(Set.of(0));
            assertThat(invocation.summary().has(Metric.RECORDS_DELAYED.key())).isFalse();
            assertThat(receivableNow(work)).isEmpty(); // still in flight for its 300 s
        }
    }

    /**
     * Queued mode: an HTTP request's items put on the work queue by {@link dev.fanout.batch.QueuedBatch} are that
     * queue's records when the SQS entry point runs them, so a handed-back one is delayed like any other.
     */
    @Nested
    class QueuedMode {

        @Test
        void aQueuedItemHandedBackComesBackAfterItsDelayWithItsBatchAndIndex() throws Exception {
            String work = sqs.createQueue("redelivery-queued-work");
            String results = sqs.createQueue("redelivery-queued-results");
            var queued = new dev.fanout.batch.QueuedBatch(new SqsResultsSink(sqs.client(),
                    FanoutSettings.results(work)), false);
            List<com.fasterxml.jackson.databind.JsonNode> items = new ArrayList<>();
            for (String body : List.of(echo("ok"), echo("fail"), SqsEvents.item("echo", "{\"mode\":\"later\",\"seconds\":30}"))) {
                items.add(MAPPER.readTree(body));
            }
            var receipt = queued.queue(items, List.of(Optional.empty(), Optional.empty(), Optional.empty()),
                    java.util.Arrays.asList(null, null, null), Deadline.after(Duration.ofSeconds(5)));
            assertThat(receipt.queued()).isEqualTo(3);

            // received from the work queue as the event source mapping receives: real receipt handles
            List<Message> messages = receiveNow(work);
            messages.sort((a, b) -> Integer.compare(index(a), index(b)));
            assertThat(messages).extracting(QueuedMode::index).containsExactly(0, 1, 2);
            String arn = ElasticMq.attribute(sqs.client(), work, QueueAttributeName.QUEUE_ARN);
            ObjectNode json = MAPPER.createObjectNode();
            ArrayNode records = json.putArray("Records");
            for (Message m : messages) {
                Map<String, String> attributes = new java.util.TreeMap<>();
                m.messageAttributes().forEach((name, value) -> attributes.put(name, value.stringValue()));
                SqsEvents.addRecord(records, m.messageId(), m.receiptHandle(), m.body(), m.attributesAsStrings(),
                        attributes, m.md5OfBody(), arn);
            }

            var invocation = processor(results, backoff(0)).process(SqsEvents.parse(json.toString()),
                    Deadline.after(Duration.ofSeconds(5)));

            Set<String> reported = invocation.response().getBatchItemFailures().stream().map(f -> f.getItemIdentifier())
                    .collect(Collectors.toSet());
            assertThat(reported).containsExactlyInAnyOrder(messages.get(1).messageId(), messages.get(2).messageId());
            ObjectNode s = invocation.summary();
            assertThat(List.of(figure(s, Metric.RECORDS_DELAYED), figure(s, Metric.RECORDS_NOT_DELAYED),
                    figure(s, Metric.VISIBILITY_FAILURES), figure(s, Metric.DELAY_MIN_SECONDS), figure(s, Metric.DELAY_MAX_SECONDS)))
                    .containsExactly(2, 0, 0, 0, 30);
            // the failed item (0 s) is back at once, still carrying its batch and index; the one asked 30 s is not
            List<Message> back = receiveNow(work);
            assertThat(back).hasSize(1);
            assertThat(back.getFirst().messageId()).isEqualTo(messages.get(1).messageId());
            assertThat(back.getFirst().messageAttributes().get(dev.fanout.batch.QueuedBatch.BATCH_ID_ATTRIBUTE).stringValue())
                    .isEqualTo(receipt.batchId());
            assertThat(index(back.getFirst())).isEqualTo(1);
            assertThat(back.getFirst().attributesAsStrings().get("ApproximateReceiveCount")).isEqualTo("2");
            // the item that succeeded has its result on the results queue, under its batch and index
            var result = sqs.client().receiveMessage(r -> r.queueUrl(results).maxNumberOfMessages(10).waitTimeSeconds(1)
                    .messageAttributeNames("All")).messages();
            assertThat(result).hasSize(1);
            assertThat(result.getFirst().messageAttributes().get(dev.fanout.batch.QueuedBatch.BATCH_ID_ATTRIBUTE)
                    .stringValue()).isEqualTo(receipt.batchId());
            assertThat(result.getFirst().messageAttributes().get(dev.fanout.batch.QueuedBatch.ITEM_INDEX_ATTRIBUTE)
                    .stringValue()).isEqualTo("0");
        }

        static int index(Message m) {
            return Integer.parseInt(m.messageAttributes().get(dev.fanout.batch.QueuedBatch.ITEM_INDEX_ATTRIBUTE).stringValue());
        }
    }

    @Nested
    class FifoQueue {

        @Test
        void theRecordsHeldBackBehindADelayedRecordComeBackWithIt() {
            String work = sqs.createQueue("redelivery-work.fifo");
            String results = sqs.createQueue("redelivery-results.fifo");
            // group a: ok, asks 30 s, ok (held back); group b: fails (base 0: at once), ok (held back)
            Map<String, String> groups = new HashMap<>(Map.of("e0", "a", "e1", "a", "e2", "a", "e3", "b", "e4", "b"));
            List<Message> messages = received(work, List.of(echo("ok"),
                    SqsEvents.item("echo", "{\"mode\":\"later\",\"seconds\":30}"), echo("ok"), echo("fail"), echo("ok")),
                    groups);

            var invocation = processor(results, backoff(0)).process(event(work, messages, (i, r) -> {
            }), Deadline.after(Duration.ofSeconds(5)));

            assertThat(reported(invocation, messages)).isEqualTo(Set.of(1, 2, 3, 4));
            assertThat(figure(invocation.summary(), Metric.RECORDS_DELAYED)).isEqualTo(4);
            assertThat(figure(invocation.summary(), Metric.DELAY_MAX_SECONDS)).isEqualTo(30);
            // group b comes back together, in order; group a stays away with its first handed-back record
            List<Message> back = receiveNow(work);
            assertThat(back).extracting(SqsRedeliveryTest::n).containsExactly(3, 4);
        }
    }

    @Nested
    class BadInput {

        @Test
        void badHandlesMissingCountsAndBadWaitsStillComeBackCountedAndLoggedOnce() {
            String work = sqs.createQueue("redelivery-bad");
            String other = sqs.createQueue("redelivery-other");
            String results = sqs.createQueue("redelivery-bad-results");
            Message foreign = received(other, List.of(echo("x")), null).getFirst();
            List<Message> messages = received(work, List.of(echo("fail"), echo("fail"), echo("fail"), echo("fail"),
                    SqsEvents.item("echo", "{\"mode\":\"later\",\"seconds\":-5}"),
                    SqsEvents.item("echo", "{\"mode\":\"later\",\"seconds\":99999999}"), echo("fail")), null);
            // 0: expired handle (deleted); 1: foreign handle; 2: garbage handle; 3: no receive count; 4: negative wait;
            // 5: a wait beyond the max (capped at 15 min); 6: no receipt handle at all
            sqs.client().deleteMessage(r -> r.queueUrl(work).receiptHandle(messages.get(0).receiptHandle()));
            SQSEvent event = event(work, messages, (i, r) -> {
                switch (i) {
                    case 1 -> r.put("receiptHandle", foreign.receiptHandle());
                    case 2 -> r.put("receiptHandle", "garbage");
                    case 3 -> ((ObjectNode) r.get("attributes")).remove("ApproximateReceiveCount");
                    case 6 -> r.remove("receiptHandle");
                    default -> {
                    }
                }
            });
            var deadline = Deadline.after(Duration.ofSeconds(5));
            SqsBatchProcessor.Invocation[] invocation = new SqsBatchProcessor.Invocation[1];

            List<String> warnings = warnings(() -> invocation[0] = processor(results, backoff(0)).process(event, deadline));

            assertThat(reported(invocation[0], messages)).isEqualTo(Set.of(0, 1, 2, 3, 4, 5, 6));
            ObjectNode s = invocation[0].summary();
            // delayed: 3 (no count: as the 1st receive), 4 (negative wait ignored), 5 (capped)
            assertThat(List.of(figure(s, Metric.RECORDS_DELAYED), figure(s, Metric.RECORDS_NOT_DELAYED),
                    figure(s, Metric.VISIBILITY_FAILURES), figure(s, Metric.REDELIVERY_FAULTS), figure(s, Metric.DELAY_MAX_SECONDS)))
                    .containsExactly(3, 4, 3, 4, 900);
            assertThat(warnings).hasSize(1);
            assertThat(warnings.getFirst()).startsWith("4 of 7 handed-back records not delayed (they come back at the"
                    + " queue's visibility timeout); first failure: SQS refused the change: ReceiptHandleIsInvalid")
                    .endsWith("; input faults {NEGATIVE_RETRY_AFTER=1, NO_RECEIPT_HANDLE=1, NO_RECEIVE_COUNT=1,"
                            + " RETRY_AFTER_OVER_MAX=1}");
            // base 0: the two delayed by the backoff are back at once; the capped one is away for 15 min
            assertThat(receivableNow(work)).isEqualTo(Set.of(3, 4));
        }

        @Test
        void aServicesUnreadableRetryAfterIsCountedAndLoggedOnceAndTheRecordStillComesBack() throws Exception {
            var service = com.sun.net.httpserver.HttpServer.create(
                    new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
            // answers 503 with the Retry-After its path names: /soon, /-5, /99999999999, /30
            service.createContext("/", exchange -> {
                exchange.getResponseHeaders().add("Retry-After", exchange.getRequestURI().getPath().substring(1));
                exchange.sendResponseHeaders(503, -1);
                exchange.close();
            });
            service.start();
            String url = "http://127.0.0.1:" + service.getAddress().getPort() + "/";
            // holds off: each item calls the one local service
            try (var http = new dev.fanout.work.http.HttpCallFunction(
                    FanoutSettings.http("allow", "127.0.0.1/32", "max-attempts", "1"),
                    dev.fanout.work.http.SsrfGuard.Resolver.SYSTEM, dev.fanout.work.http.ServiceHolds.off())) {
                String work = sqs.createQueue("redelivery-unreadable");
                String results = sqs.createQueue("redelivery-unreadable-results");
                List<Message> messages = received(work, java.util.stream.Stream.of("soon", "-5", "99999999999", "30", "later")
                        .map(wait -> SqsEvents.item("http", "{\"url\":\"" + url + wait + "\"}")).toList(), null);
                SQSEvent event = event(work, messages, (i, r) -> {
                });
                SqsBatchProcessor.Invocation[] invocation = new SqsBatchProcessor.Invocation[1];

                List<String> warnings = warnings(() -> invocation[0] = processor(results, backoff(0),
                        TestFunctions.builder(MAPPER).add(http).build()).process(event, Deadline.after(Duration.ofSeconds(5))));

                // every record handed back, every one delayed: the unreadable waits by the backoff (0 s), the huge one
                // capped at the max (15 min), the readable one by its 30 s
                assertThat(reported(invocation[0], messages)).isEqualTo(Set.of(0, 1, 2, 3, 4));
                ObjectNode s = invocation[0].summary();
                assertThat(List.of(figure(s, Metric.RECORDS_DELAYED), figure(s, Metric.RECORDS_NOT_DELAYED),
                        figure(s, Metric.REDELIVERY_FAULTS), figure(s, Metric.DELAY_MIN_SECONDS), figure(s, Metric.DELAY_MAX_SECONDS)))
                        .containsExactly(5, 0, 4, 0, 900);
                assertThat(warnings).containsExactly("0 of 5 handed-back records not delayed (they come back at the queue's"
                        + " visibility timeout); input faults {RETRY_AFTER_OVER_MAX=1, UNREADABLE_RETRY_AFTER=3};"
                        + " first unreadable Retry-After: \"soon\"");
                assertThat(receivableNow(work)).isEqualTo(Set.of(0, 1, 4));
            } finally {
                service.stop(0);
            }
        }

        @Test
        void aFailureOfTheRedeliveryItselfCostsNoRecord() {
            String work = sqs.createQueue("redelivery-broken");
            String results = sqs.createQueue("redelivery-broken-results");
            List<Message> messages = received(work, List.of(echo("ok"), echo("fail")), null);
            var sinkSettings = FanoutSettings.results(results);
            var batch = new RecordBatch(new WorkerPool(Limits.of(4).withCutoffMargin(Duration.ofSeconds(1))), handlers(),
                    new ItemParser(MAPPER, Optional.empty()), new SqsResultsSink(sqs.client(), sinkSettings), MAPPER,
                    new RecordBatch.Settings(Duration.ofMillis(200), false));
            var redelivery = new Redelivery(new RedeliveryBackoff(backoff(0), () -> TOP),
                    new SqsVisibility(sqs.client(), SqsVisibility.Settings.defaults()), Duration.ofMillis(100));
            var broken = new SqsBatchProcessor(batch, Optional.of(redelivery), arn -> {
                throw new IllegalStateException("the URL mapping broke");
            });

            var invocation = broken.process(event(work, messages, (i, r) -> {
            }), Deadline.after(Duration.ofSeconds(5)));

            assertThat(reported(invocation, messages)).isEqualTo(Set.of(1));
            assertThat(figure(invocation.summary(), Metric.RECORDS_NOT_DELAYED)).isEqualTo(1);
            assertThat(invocation.summary().get("batchItemFailures").asInt()).isEqualTo(1);
        }

        @Test
        void aVisibilityEndpointThatNeverAnswersDoesNotMakeTheAnswerLate() throws Exception {
            String work = sqs.createQueue("redelivery-silent");
            String results = sqs.createQueue("redelivery-silent-results");
            List<Message> messages = received(work, List.of(echo("ok"), echo("fail"), echo("fail")), null);
            List<java.net.Socket> held = new CopyOnWriteArrayList<>();
            try (var silent = new java.net.ServerSocket(0)) {
                Thread acceptor = Thread.ofVirtual().start(() -> {
                    try {
                        while (true) {
                            held.add(silent.accept()); // reads nothing, answers nothing
                        }
                    } catch (Exception closed) {
                        // the test is over
                    }
                });
                try (var hanging = ElasticMq.client(java.net.URI.create("http://127.0.0.1:" + silent.getLocalPort()))) {
                    var sinkSettings = FanoutSettings.results(results);
                    var batch = new RecordBatch(new WorkerPool(Limits.of(4).withCutoffMargin(Duration.ofSeconds(1))),
                            handlers(), new ItemParser(MAPPER, Optional.empty()),
                            new SqsResultsSink(sqs.client(), sinkSettings), MAPPER,
                            new RecordBatch.Settings(Duration.ofMillis(250), false));
                    var redelivery = new Redelivery(new RedeliveryBackoff(backoff(0), () -> TOP),
                            new SqsVisibility(hanging, SqsVisibility.Settings.defaults()), Duration.ofMillis(100));
                    var processor = new SqsBatchProcessor(batch, Optional.of(redelivery),
                            arn -> QueueUrls.fromArn(arn, Optional.of(sqs.endpoint())));
                    SQSEvent event = event(work, messages, (i, r) -> {
                    });
                    var deadline = Deadline.after(Duration.ofSeconds(2));

                    var invocation = processor.process(event, deadline);

                    // the changes waited until the deadline less the 100 ms reserve, and no longer
                    long left = deadline.remaining().toMillis();
                    assertThat(left).isBetween(1L, 150L);
                    assertThat(reported(invocation, messages)).isEqualTo(Set.of(1, 2));
                    assertThat(figure(invocation.summary(), Metric.RECORDS_NOT_DELAYED)).isEqualTo(2);
                    assertThat(figure(invocation.summary(), Metric.VISIBILITY_FAILURES)).isEqualTo(2);
                } finally {
                    for (var socket : held) {
                        socket.close();
                    }
                    silent.close();
                    acceptor.join(Duration.ofSeconds(5));
                }
            }
        }

        @Test
        void aRecordWhoseQueueIsUnknownIsHandedBackUndelayed() {
            String work = sqs.createQueue("redelivery-no-arn");
            String results = sqs.createQueue("redelivery-no-arn-results");
            List<Message> messages = received(work, List.of(echo("fail")), null);
            SQSEvent event = event(work, messages, (i, r) -> r.put("eventSourceARN", "not-an-arn"));

            var invocation = processor(results, backoff(0)).process(event, Deadline.after(Duration.ofSeconds(5)));

            assertThat(reported(invocation, messages)).isEqualTo(Set.of(0));
            assertThat(figure(invocation.summary(), Metric.RECORDS_NOT_DELAYED)).isEqualTo(1);
            assertThat(figure(invocation.summary(), Metric.VISIBILITY_REQUESTS)).isZero();
            assertThat(receivableNow(work)).isEmpty();
        }
    }

    /** One of the redelivery's figures in an invocation's summary. */
    static int figure(com.fasterxml.jackson.databind.JsonNode summary, Metric metric) {
        return summary.get(metric.key()).asInt();
    }
}

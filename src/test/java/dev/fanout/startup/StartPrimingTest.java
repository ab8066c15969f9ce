package dev.fanout.startup;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

import dev.fanout.testing.ElasticMq;

import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/** The start's priming jobs: each runs once, on a thread of its own, without configuration or network. */
class StartPrimingTest {

    static final ElasticMq sqs = ElasticMq.shared();

    @Test
    void theSqsClientPrimingSendsOneEntryThroughTheWholeClientPathAnsweredInProcess() {
        SendMessageBatchResponse answer = SqsClientPriming.prime();

        // read back through unmarshalling and the client's MD5 check of the entry's body and attributes
        assertThat(answer.successful()).hasSize(1);
        assertThat(answer.successful().getFirst().id()).isEqualTo("0");
        assertThat(answer.successful().getFirst().md5OfMessageBody())
                .isEqualTo(SqsClientPriming.bodyDigest(SqsClientPriming.BODY));
        assertThat(answer.failed()).isEmpty();
    }

    @Test
    void theDigestsOfTheAnswerInProcessAreThoseAnSqsServerReportsForTheSameEntry() {
        // the priming's client checks both digests against those it computes; here, against a server's
        String queue = sqs.createQueue("priming-digests");
        var answer = sqs.client().sendMessageBatch(r -> r.queueUrl(queue).entries(e -> e.id("0")
                .messageBody(SqsClientPriming.BODY).messageAttributes(SqsClientPriming.attributeValues())));

        assertThat(answer.successful()).singleElement().satisfies(entry -> {
            assertThat(entry.md5OfMessageBody()).isEqualTo(SqsClientPriming.bodyDigest(SqsClientPriming.BODY))
                    .isEqualTo("cc047f5391b07b1bdb0cfc40a8952d04");
            assertThat(entry.md5OfMessageAttributes())
                    .isEqualTo(SqsClientPriming.attributesDigest(SqsClientPriming.ATTRIBUTES));
        });
        // and for attributes of several names, which the digest takes in the order of their names
        var attributes = Map.of("b", "2", "a", "\u00e9t\u00e9", "status", "failed");
        var several = sqs.client().sendMessageBatch(r -> r.queueUrl(queue).entries(e -> e.id("1").messageBody("x")
                .messageAttributes(attributes.entrySet().stream().collect(java.util.stream.Collectors.toMap(
                        Map.Entry::getKey, a -> MessageAttributeValue.builder().dataType("String")
                                .stringValue(a.getValue()).build())))));
        assertThat(several.successful().getFirst().md5OfMessageAttributes())
                .isEqualTo(SqsClientPriming.attributesDigest(attributes));
    }

    @Test
    void eachJobStartsOnceOnADaemonThreadOfItsNameAndAFailureIsKept() throws InterruptedException {
        var runs = new AtomicInteger();
        Map<String, Runnable> jobs = new LinkedHashMap<>();
        jobs.put("test-priming-a", runs::incrementAndGet);
        jobs.put("test-priming-b", () -> {
            throw new IllegalStateException("b failed");
        });

        List<Thread> first = StartPriming.startEach(jobs);
        List<Thread> again = StartPriming.startEach(Map.of("test-priming-a", runs::incrementAndGet));

        assertThat(first).extracting(Thread::getName).containsExactly("test-priming-a", "test-priming-b");
        assertThat(first).allMatch(Thread::isDaemon);
        assertThat(again).containsExactly(first.getFirst());
        assertThat(StartPriming.await(Duration.ofSeconds(60))).isTrue();
        assertThat(runs).hasValue(1);
        assertThat(StartPriming.failures()).containsOnlyKeys("test-priming-b");
        assertThat(StartPriming.failures().get("test-priming-b")).hasMessage("b failed");
        assertThat(System.getProperty("java.util.logging.manager")).isEqualTo("org.jboss.logmanager.LogManager");
    }

    @Test
    void primingCanBeSwitchedOff() {
        String before = System.getProperty("fanout.start-priming");
        try {
            System.setProperty("fanout.start-priming", "false");
            assertThat(StartPriming.enabled()).isFalse();
            assertThat(StartPriming.start(Map.of("test-priming-off", () -> { }))).isEmpty();
            System.setProperty("fanout.start-priming", "true");
            assertThat(StartPriming.enabled()).isTrue();
        } finally {
            if (before == null) {
                System.clearProperty("fanout.start-priming");
            } else {
                System.setProperty("fanout.start-priming", before);
            }
        }
    }

    @Test
    void theEntryPointIsReadAsQuarkusReadsIt() {
        String before = System.getProperty("quarkus.lambda.handler");
        try {
            System.setProperty("quarkus.lambda.handler", "http");
            assertThat(StartPriming.entryPoint()).isEqualTo("http");
            System.clearProperty("quarkus.lambda.handler");
            assertThat(StartPriming.entryPoint()).isEqualTo(System.getenv().getOrDefault("QUARKUS_LAMBDA_HANDLER", "sqs"));
        } finally {
            if (before != null) {
                System.setProperty("quarkus.lambda.handler", before);
            }
        }
    }
}

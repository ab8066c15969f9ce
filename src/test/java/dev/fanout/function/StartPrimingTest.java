package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.testing.ElasticMq;

import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/** The start's priming jobs: they run without configuration or network, and each entry point gets its own. */
class StartPrimingTest {

    static final ElasticMq sqs = ElasticMq.shared();

    @Test
    void theSqsClientPrimingSendsOneEntryThroughTheWholeClientPathAnsweredInProcess() {
        SendMessageBatchResponse answer = StartPriming.primeSqsClient();

        // read back through unmarshalling and the client's MD5 check of the entry's body
        assertThat(answer.successful()).hasSize(1);
        assertThat(answer.successful().getFirst().id()).isEqualTo("0");
        assertThat(answer.successful().getFirst().md5OfMessageBody()).isEqualTo(StartPriming.BODY_MD5);
        assertThat(answer.successful().getFirst().md5OfMessageAttributes()).isEqualTo(StartPriming.ATTRIBUTES_MD5);
        assertThat(answer.failed()).isEmpty();
    }

    @Test
    void theCannedAnswersDigestsAreThoseAnSqsServerReportsForTheSameEntry() {
        // the priming's client checks both digests against those it computes; here, against a server's
        String queue = sqs.createQueue("priming-digests");
        var answer = sqs.client().sendMessageBatch(r -> r.queueUrl(queue).entries(e -> e.id("0")
                .messageBody(StartPriming.BODY).messageAttributes(StartPriming.attributeValues())));

        assertThat(answer.successful()).singleElement().satisfies(entry -> {
            assertThat(entry.md5OfMessageBody()).isEqualTo(StartPriming.BODY_MD5);
            assertThat(entry.md5OfMessageAttributes()).isEqualTo(StartPriming.ATTRIBUTES_MD5);
        });
    }

    @Test
    void theBatchPathPrimingRunsSnapStartsPrimingOnObjectsOfItsOwn() {
        // every priming item parsed, run and written; the HTTP one answers three items
        assertThat(StartPriming.primeBatchPath("sqs")).isEqualTo(new SnapStartHooks.Priming(1, 4, 4));
        assertThat(StartPriming.primeBatchPath("http")).isEqualTo(new SnapStartHooks.Priming(1, 3, 3));
    }

    @Test
    void theStreamEntryPointsPrimeTheirWholePathWithoutRunningAUserFunction() {
        // kinesis: the four SQS priming items and a KPL aggregate of two user records, each with its result;
        // dynamodb: three changes, rejected as items of a type no function has, after their payload is built
        assertThat(StartPriming.primeBatchPath("kinesis")).isEqualTo(new SnapStartHooks.Priming(1, 6, 6));
        assertThat(StartPriming.primeBatchPath("dynamodb")).isEqualTo(new SnapStartHooks.Priming(1, 3, 3));
    }

    @Test
    void theStreamPrimingEventsReachEveryPartOfTheirPath() {
        var mapper = new ObjectMapper();
        var handlers = dev.fanout.work.ItemFunctions.builder(mapper)
                .add(new dev.fanout.work.builtin.DigestFunction(StartPriming.DIGEST_ROUNDS))
                .add(new dev.fanout.work.builtin.DelayFunction(Duration.ofSeconds(1))).build();
        var parser = new dev.fanout.work.ItemParser(mapper, java.util.Optional.empty());
        var queue = new SnapStartHooks.InProcessQueue();
        var sink = new dev.fanout.fanin.SqsResultsSink(queue,
                dev.fanout.fanin.SqsResultsSink.Settings.defaults(StartPriming.QUEUE_URL));
        var processor = new StreamBatchProcessor(new dev.fanout.batch.RecordBatch(
                new dev.fanout.engine.WorkerPool(dev.fanout.engine.Limits.of(8)), handlers, parser, sink, mapper,
                new dev.fanout.batch.RecordBatch.Settings(Duration.ZERO, false)), parser,
                java.util.Optional.of(StreamPriming.NO_SUCH_TYPE));

        var kinesis = processor.prime(StreamPriming.kinesisEvent(), dev.fanout.engine.Deadline.after(Duration.ofSeconds(30)));
        var dynamodb = processor.prime(StreamPriming.dynamodbEvent(), dev.fanout.engine.Deadline.after(Duration.ofSeconds(30)));

        // the digest and the delay ran; the unknown type, the aggregate's two user records (not items) rejected
        assertThat(kinesis.summary().get("succeeded").asInt()).isEqualTo(2);
        assertThat(kinesis.summary().get("rejected").asInt()).isEqualTo(4);
        assertThat(kinesis.summary().get("kinesisRecords").asInt()).isEqualTo(5);
        assertThat(kinesis.response().getBatchItemFailures()).isEmpty();
        // every change converted (its payload built) and rejected for its type alone
        assertThat(dynamodb.summary().get("rejected").asInt()).isEqualTo(3);
        assertThat(dynamodb.response().getBatchItemFailures()).isEmpty();
    }

    @Test
    void primingRunsAreNoInvocationsAndLogNoMetrics() {
        var metricsLogger = Logger.getLogger(InvocationMetrics.LOGGER);
        List<String> messages = new CopyOnWriteArrayList<>();
        var capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                messages.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        metricsLogger.addHandler(capture);
        try {
            StartPriming.primeBatchPath("http");
            StartPriming.primeBatchPath("sqs");
            StartPriming.primeBatchPath("kinesis");
            StartPriming.primeBatchPath("dynamodb");
            // the control: an answer to a real invocation is one metrics line
            InvocationMetrics.log(new ObjectMapper().createObjectNode().put("items", 1), "http");
        } finally {
            metricsLogger.removeHandler(capture);
        }
        assertThat(messages).hasSize(1);
        assertThat(messages.getFirst()).contains("\"items\":1");
    }

    @Test
    void eachEntryPointStartsTheJobsItNeedsOnceAndTheyEndWithoutFailures() throws InterruptedException {
        assertThat(StartPriming.startFor("no-such-entry-point")).isEmpty();

        List<Thread> sqs = StartPriming.startFor("sqs");
        List<Thread> http = StartPriming.startFor("http");

        assertThat(sqs).extracting(Thread::getName).containsExactly("fanout-sqs-client-priming", "fanout-batch-path-priming");
        assertThat(sqs).allMatch(Thread::isDaemon);
        // once per JVM: the HTTP entry point's job is the one already started
        assertThat(http).containsExactly(sqs.get(1));
        assertThat(StartPriming.await(Duration.ofSeconds(60))).isTrue();
        assertThat(sqs).noneMatch(Thread::isAlive);
        assertThat(StartPriming.failures()).isEmpty();
        // the stream entry points send their results through the same client: both jobs, the ones started
        assertThat(StartPriming.startFor("kinesis")).containsExactlyElementsOf(sqs);
        assertThat(StartPriming.startFor("dynamodb")).containsExactlyElementsOf(sqs);
        assertThat(System.getProperty("java.util.logging.manager")).isEqualTo("org.jboss.logmanager.LogManager");
    }

    @Test
    void primingCanBeSwitchedOff() {
        String before = System.getProperty("fanout.start-priming");
        try {
            System.setProperty("fanout.start-priming", "false");
            assertThat(StartPriming.enabled()).isFalse();
            assertThat(StartPriming.start()).isEmpty();
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

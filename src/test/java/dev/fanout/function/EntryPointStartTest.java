package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.RecordBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.startup.InProcessQueue;
import dev.fanout.startup.Priming;
import dev.fanout.testing.JacksonBindings;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.ItemParser;
import dev.fanout.work.builtin.DelayFunction;
import dev.fanout.work.builtin.DigestFunction;
import software.amazon.awssdk.services.sqs.SqsClient;

/** Each entry point's start: its priming run, in process and without AWS, and the jobs the handler class starts. */
class EntryPointStartTest {

    static final ObjectMapper MAPPER = JacksonBindings.recording(new ObjectMapper());

    final ItemFunctions functions = TestFunctions.builder(MAPPER)
            .add(new DigestFunction(100)).add(new DelayFunction(Duration.ofSeconds(1))).build();
    final WorkerPool pool = new WorkerPool(Limits.of(8).withCutoffMargin(Duration.ofSeconds(1)));
    final ItemParser parser = new ItemParser(MAPPER, Optional.empty());

    @Test
    void theSqsEntryPointPrimesThroughTheFanInToAQueueInProcessWithoutCallingAws() {
        // no results client at all (null suppliers): the run can only reach the queue in process
        var start = new SqsStart(() -> null, () -> null, pool, functions, parser, MAPPER);

        // digest, delay, an unknown type and a malformed body: every result written to the queue in process
        assertThat(start.prime()).isEqualTo(new Priming(1, 4, 4));
        assertThat(start.name()).isEqualTo("sqs");
    }

    @Test
    void theHttpEntryPointPrimesItsWholePath() {
        var batches = new HttpBatchProcessor(pool, functions, parser, MAPPER,
                new dev.fanout.batch.http.RequestBatch.Settings(Duration.ofSeconds(29), 100, 100_000, 1000),
                Optional.empty());

        assertThat(new HttpStart(() -> batches, MAPPER).prime()).isEqualTo(new Priming(1, 3, 3));
    }

    @Test
    void onPlainObjectsEachEntryPointPrimesEveryItemOfThePrimingBatch() {
        assertThat(FanoutStreamHandler.onPlainObjects("sqs").prime()).isEqualTo(new Priming(1, 4, 4));
        assertThat(FanoutStreamHandler.onPlainObjects("http").prime()).isEqualTo(new Priming(1, 3, 3));
    }

    @Test
    void theStreamEntryPointsPrimeTheirWholePathWithoutRunningAUserFunction() {
        // kinesis: the four priming items and a KPL aggregate of two user records, each with its result;
        // dynamodb: three changes, rejected as items of a type no function has, after their payload is built
        assertThat(FanoutStreamHandler.onPlainObjects("kinesis").prime()).isEqualTo(new Priming(1, 6, 6));
        assertThat(FanoutStreamHandler.onPlainObjects("dynamodb").prime()).isEqualTo(new Priming(1, 3, 3));
    }

    @Test
    void theStreamPrimingEventsReachEveryPartOfTheirPath() {
        var queue = new InProcessQueue();
        var sink = new SqsResultsSink(queue, SqsStart.primingSinkSettings());
        var processor = new StreamBatchProcessor(new RecordBatch(pool, functions, parser, sink, MAPPER,
                new RecordBatch.Settings(Duration.ZERO, false)), parser, Optional.of(StreamStart.NO_SUCH_TYPE));

        var kinesis = processor.prime(StreamStart.kinesisEvent(), Deadline.after(Duration.ofSeconds(30)));
        var dynamodb = processor.prime(StreamStart.dynamodbEvent(), Deadline.after(Duration.ofSeconds(30)));

        // the digest and the delay ran; the unknown type, the aggregate's two user records (not items) rejected
        assertThat(kinesis.summary().get("succeeded").asInt()).isEqualTo(2);
        assertThat(kinesis.summary().get("rejected").asInt()).isEqualTo(4);
        assertThat(kinesis.summary().get("kinesisRecords").asInt()).isEqualTo(5);
        assertThat(kinesis.response().getBatchItemFailures()).isEmpty();
        // every change converted (its payload built) and rejected for its type alone
        assertThat(dynamodb.summary().get("rejected").asInt()).isEqualTo(3);
        assertThat(dynamodb.response().getBatchItemFailures()).isEmpty();
        assertThat(queue.accepted()).isEqualTo(9);
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
            FanoutStreamHandler.onPlainObjects("http").prime();
            FanoutStreamHandler.onPlainObjects("sqs").prime();
            FanoutStreamHandler.onPlainObjects("kinesis").prime();
            FanoutStreamHandler.onPlainObjects("dynamodb").prime();
            // the control: an answer to a real invocation is one metrics line
            InvocationMetrics.log(new ObjectMapper().createObjectNode().put("items", 1), "http");
        } finally {
            metricsLogger.removeHandler(capture);
        }
        assertThat(messages).hasSize(1);
        assertThat(messages.getFirst()).contains("\"items\":1");
    }

    @Test
    void eachEntryPointStartsTheJobsItNeeds() {
        assertThat(FanoutStreamHandler.primingJobs("sqs"))
                .containsOnlyKeys("fanout-sqs-client-priming", "fanout-batch-path-priming");
        assertThat(FanoutStreamHandler.primingJobs("http")).containsOnlyKeys("fanout-batch-path-priming");
        // the stream entry points send their results through the same client
        assertThat(FanoutStreamHandler.primingJobs("kinesis"))
                .containsOnlyKeys("fanout-sqs-client-priming", "fanout-batch-path-priming");
        assertThat(FanoutStreamHandler.primingJobs("dynamodb"))
                .containsOnlyKeys("fanout-sqs-client-priming", "fanout-batch-path-priming");
        assertThat(FanoutStreamHandler.primingJobs("no-such-entry-point")).isEmpty();
    }

    @Test
    void theFunctionsClientTakesCredentialsFromTheEnvironmentThenTheContainerEndpoint() {
        // under SnapStart, credentials come from the container endpoint, not from environment variables
        try (SqsClient client = Wiring.buildSqsClient("eu-west-1", Optional.empty())) {
            assertThat(client.serviceClientConfiguration().credentialsProvider()).hasToString(
                    "AwsCredentialsProviderChain(credentialsProviders=[EnvironmentVariableCredentialsProvider(), ContainerCredentialsProvider()])");
            assertThat(client.serviceClientConfiguration().region().id()).isEqualTo("eu-west-1");
        }
    }
}

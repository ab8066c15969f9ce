package dev.fanout.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.FanoutSettings;
import dev.fanout.batch.RecordBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.function.SqsBatchProcessor;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.SqsEvents;
import dev.fanout.work.ItemParser;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.builtin.DelayFunction;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * The SQS entry point in process, 10,000 records, every SendMessageBatch call to ElasticMQ held 10 ms (as if
 * SQS were across a network): items of 20 ms at C = 500, and items of 0-2 s spread evenly at C = 1,000.
 * Answer time against engine time, fan-in after the engine, and (streaming builds) the time from an item's
 * end to its result's confirmation. Uses only the processor's public API, so the same file runs against the
 * code before streaming fan-in, for the comparison.
 */
public final class SqsEntryPointFigures {

    /** Holds each SendMessageBatch call for a fixed time before it is made. */
    static final class DelayedClient implements SqsClient {
        final SqsClient delegate;
        final long delayNanos;

        DelayedClient(SqsClient delegate, Duration delay) {
            this.delegate = delegate;
            this.delayNanos = delay.toNanos();
        }

        @Override
        public SendMessageBatchResponse sendMessageBatch(SendMessageBatchRequest request) {
            long until = System.nanoTime() + delayNanos;
            for (long left; (left = until - System.nanoTime()) > 0;) {
                LockSupport.parkNanos(left);
            }
            return delegate.sendMessageBatch(request);
        }

        @Override
        public String serviceName() {
            return delegate.serviceName();
        }

        @Override
        public void close() {
        }
    }

    public static void main(String[] args) {
        String label = args.length > 0 ? args[0] : "this build";
        var out = new StringBuilder();
        int q = 0;
        try (ElasticMq sqs = ElasticMq.start()) {
            var mapper = new ObjectMapper();
            ItemFunctions handlers = TestFunctions.builder(mapper)
                    .add(new DelayFunction(Duration.ofMinutes(1))).build();
            out.append("\n### The SQS entry point, 10,000 records, 10 ms added per SendMessageBatch, default send concurrency "
                    + FanoutSettings.results("q").sendConcurrency() + "\n\n");
            out.append("| workload | answer | engine | fan-in after the engine | answer / engine | item end to confirmation p50 / p99 | requests | delivered |\n");
            out.append("|---|---|---|---|---|---|---|---|\n");
            for (String workload : List.of("20 ms at C = 500", "0-2 s spread at C = 1,000")) {
                boolean spread = workload.startsWith("0-2");
                List<String> bodies = new ArrayList<>();
                for (int i = 0; i < 10_000; i++) {
                    long millis = spread ? i * 2_000L / 10_000 : 20;
                    bodies.add(SqsEvents.item("delay", "{\"millis\":" + millis + "}"));
                }
                String queue = sqs.createQueue("e2e-" + q++);
                var sinkSettings = FanoutSettings.results(queue);
                var processor = new SqsBatchProcessor(new RecordBatch(new WorkerPool(Limits.of(spread ? 1_000 : 500)
                        .withCutoffMargin(Duration.ofSeconds(3))), handlers, new ItemParser(mapper, Optional.empty()),
                        new SqsResultsSink(new DelayedClient(sqs.client(), Duration.ofMillis(10)), sinkSettings), mapper,
                        new RecordBatch.Settings(Duration.ofMillis(250), false)));
                SQSEvent event = SqsEvents.parse(SqsEvents.standard(bodies));
                long start = System.nanoTime();
                ObjectNode s = processor.process(event, Deadline.after(Duration.ofSeconds(120))).summary();
                long answerMs = (System.nanoTime() - start) / 1_000_000;
                long engineMs = s.get("engineMs").asLong();
                out.append(String.format(Locale.ROOT, "| %s, %s | %,d ms | %,d ms | %,d ms | %.2f | %d / %d ms | %,d | %,d |%n",
                        label, workload, answerMs, engineMs, s.get("fanInMs").asLong(), answerMs / (double) engineMs,
                        s.path("resultLagP50Ms").asLong(-1), s.path("resultLagP99Ms").asLong(-1), s.get("sendRequests").asLong(),
                        s.get("delivered").asLong()));
                System.out.print(out);
                out.setLength(0);
            }
        }
    }
}

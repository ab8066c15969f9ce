package dev.fanout.bench;

import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

import dev.fanout.testing.FanoutSettings;
import dev.fanout.batch.ResultMessages;
import dev.fanout.engine.Deadline;
import dev.fanout.fanin.Delivery;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.fanin.ResultStream;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.testing.ElasticMq;

/**
 * Streaming fan-in at realistic latency: every SendMessageBatch call to ElasticMQ is held for a fixed 10 or
 * 30 ms before it is made (as if SQS were across a network), then
 * <ol>
 * <li>fan-in alone: 10,000 results handed to a stream at once, by send concurrency;</li>
 * <li>{@link SqsEntryPointFigures}: the SQS entry point end to end.</li>
 * </ol>
 * Run: {@code ./mvnw -B test-compile exec:java -Dexec.classpathScope=test
 * -Dexec.mainClass=dev.fanout.bench.StreamingFanInFigures} (or any launcher with the test classpath).
 */
public final class StreamingFanInFigures {

    static SqsResultsSink.Settings settings(String queue, int concurrency) {
        var d = FanoutSettings.results(queue);
        return new SqsResultsSink.Settings(queue, d.maxMessageBytes(), d.maxBatchBytes(), concurrency, d.maxAttempts(),
                d.backoffBase(), d.backoffCap(), d.minCallTime());
    }

    public static void main(String[] args) {
        var out = new StringBuilder();
        try (ElasticMq sqs = ElasticMq.start()) {
            out.append("\n### Fan-in alone, 10,000 results of about 200 bytes, by send concurrency\n\n");
            out.append("| added per call | concurrency | time | results/s | requests/result |\n|---|---|---|---|---|\n");
            String body = "{\"sourceMessageId\":\"m\",\"status\":\"succeeded\",\"output\":{\"text\":\"" + "x".repeat(120) + "\"}}";
            int q = 0;
            for (int delayMs : new int[] { 10, 30 }) {
                for (int concurrency : new int[] { 4, 8, 16, 32, 64 }) {
                    String queue = sqs.createQueue("fanin-" + q++);
                    var sink = new SqsResultsSink(new SqsEntryPointFigures.DelayedClient(sqs.client(), Duration.ofMillis(delayMs)),
                            settings(queue, concurrency));
                    int n = 10_000;
                    long start = System.nanoTime();
                    ResultStream stream = sink.open(n, Deadline.after(Duration.ofSeconds(120)));
                    for (int i = 0; i < n; i++) {
                        stream.offer(i, new ResultMessage(body, Map.of("status", "succeeded"), Optional.empty(),
                                Optional.empty(), Optional.of(ResultMessages.substitution("m-" + i))), -1);
                    }
                    Delivery delivery = stream.close();
                    double seconds = (System.nanoTime() - start) / 1e9;
                    out.append(String.format(Locale.ROOT, "| %d ms | %d | %.2f s | %,.0f | %.3f |%n", delayMs, concurrency,
                            seconds, delivery.deliveredCount() / seconds, delivery.requests() / (double) n));
                    System.out.print(out);
                    out.setLength(0);
                }
            }
        }
        System.out.print(out);
    }
}

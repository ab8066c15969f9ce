package dev.fanout.bench;

import java.lang.reflect.Method;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.WorkerPool;
import dev.fanout.function.idempotency.DynamoDbIdempotencyStore;
import dev.fanout.testing.Dynalite;
import dev.fanout.testing.ElasticMq;
import dev.fanout.work.FunctionTarget;
import dev.fanout.work.Idempotency;
import dev.fanout.work.Idempotent;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * What idempotency adds per item (docs/idempotency.md): 1,000 no-op items at an engine bound of 100, run plain,
 * then idempotent against dynalite (first run: claim and completion), then again (redelivery: the stored output).
 * Prints each round's wall time, the items' median and 99th-percentile duration, and the store's requests per item.
 * Not part of {@code -Pbench}:
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) dev.fanout.bench.IdempotencyOverhead [items] [bound] [rounds]
 * </pre>
 */
public final class IdempotencyOverhead {

    static final ObjectMapper MAPPER = new ObjectMapper();

    /** The function: nothing but its output, so an item's time is the engine's and the store's. */
    public static final class Work {
        public JsonNode plain(JsonNode payload) {
            return payload;
        }

        @Idempotent
        public JsonNode guarded(JsonNode payload) {
            return payload;
        }
    }

    record Figures(long wallMs, double medianMs, double p99Ms, double requestsPerItem, int succeeded) {
        @Override
        public String toString() {
            return String.format("wall %5d ms  item median %6.2f ms  p99 %6.2f ms  requests/item %.2f  succeeded %d",
                    wallMs, medianMs, p99Ms, requestsPerItem, succeeded);
        }
    }

    public static void main(String[] args) throws Exception {
        int items = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int bound = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        AtomicLong requests = new AtomicLong();
        try (Dynalite dynalite = Dynalite.start(); DynamoDbClient client = countingClient(dynalite, requests)) {
            Work work = new Work();
            System.out.printf("%d items, bound %d, %d rounds, dynalite %s on %s%n", items, bound, rounds,
                    Dynalite.VERSION, dynalite.endpoint());
            List<Figures> plain = new ArrayList<>();
            List<Figures> first = new ArrayList<>();
            List<Figures> replay = new ArrayList<>();
            for (int round = 0; round <= rounds; round++) { // round 0 warms up
                String table = dynalite.createTable();
                ItemFunctions functions = ItemFunctions.builder(MAPPER)
                        .idempotency(new Idempotency(new DynamoDbIdempotencyStore(client, table), Duration.ofHours(1),
                                Set.of(), Clock.systemUTC()))
                        .add("plain", method("plain"), FunctionTarget.shared(work))
                        .add("guarded", method("guarded"), FunctionTarget.shared(work))
                        .build();
                Figures p = run(functions, "plain", round, items, bound, requests);
                Figures f = run(functions, "guarded", round, items, bound, requests);
                Figures r = run(functions, "guarded", round, items, bound, requests);
                if (round > 0) {
                    plain.add(p);
                    first.add(f);
                    replay.add(r);
                    System.out.printf("round %d%n  plain      %s%n  first run  %s%n  redelivery %s%n", round, p, f, r);
                }
            }
            System.out.printf("median of %d rounds: plain item %.2f ms, first run %.2f ms (+%.2f), redelivery %.2f ms"
                    + " (+%.2f); wall %d / %d / %d ms; requests per item %.2f / %.2f%n", rounds,
                    median(plain, Figures::medianMs), median(first, Figures::medianMs),
                    median(first, Figures::medianMs) - median(plain, Figures::medianMs),
                    median(replay, Figures::medianMs),
                    median(replay, Figures::medianMs) - median(plain, Figures::medianMs),
                    (long) median(plain, Figures::wallMs), (long) median(first, Figures::wallMs),
                    (long) median(replay, Figures::wallMs), median(first, Figures::requestsPerItem),
                    median(replay, Figures::requestsPerItem));
        }
    }

    static Figures run(ItemFunctions functions, String type, int round, int items, int bound, AtomicLong requests) {
        ItemParser parser = new ItemParser(MAPPER, Optional.empty());
        List<ParsedItem> batch = new ArrayList<>(items);
        for (int i = 0; i < items; i++) {
            batch.add(parser.parse("{\"id\":\"r" + round + "-" + i + "\",\"type\":\"" + type + "\",\"payload\":{\"n\":"
                    + i + "}}", "m-" + i, Optional.empty()));
        }
        long before = requests.get();
        long start = System.nanoTime();
        BatchResult<JsonNode> result = new WorkerPool(Limits.of(bound)).run(Batch.of(batch), functions.dispatcher(),
                Deadline.after(Duration.ofSeconds(120)));
        long wallMs = (System.nanoTime() - start) / 1_000_000;
        double[] durations = result.outcomes().stream().map(Outcome::timing).flatMap(Optional::stream)
                .mapToDouble(t -> t.duration().toNanos() / 1e6).sorted().toArray();
        int succeeded = (int) result.outcomes().stream().filter(Outcome::isSuccess).count();
        return new Figures(wallMs, percentile(durations, 0.5), percentile(durations, 0.99),
                (requests.get() - before) / (double) items, succeeded);
    }

    static double percentile(double[] sorted, double p) {
        return sorted.length == 0 ? Double.NaN : sorted[Math.min(sorted.length - 1, (int) Math.floor(p * sorted.length))];
    }

    static double median(List<Figures> figures, java.util.function.ToDoubleFunction<Figures> value) {
        double[] values = figures.stream().mapToDouble(value).sorted().toArray();
        return values[values.length / 2];
    }

    static Method method(String name) throws NoSuchMethodException {
        return Work.class.getMethod(name, JsonNode.class);
    }

    static DynamoDbClient countingClient(Dynalite dynalite, AtomicLong requests) {
        return DynamoDbClient.builder()
                .endpointOverride(dynalite.endpoint())
                .region(Region.of(ElasticMq.REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ElasticMq.ACCESS_KEY,
                        ElasticMq.SECRET_KEY)))
                .httpClient(UrlConnectionHttpClient.builder().build())
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())
                        .addExecutionInterceptor(new ExecutionInterceptor() {
                            @Override
                            public void beforeTransmission(Context.BeforeTransmission context,
                                    ExecutionAttributes attributes) {
                                requests.incrementAndGet();
                            }
                        }))
                .build();
    }

    private IdempotencyOverhead() {
    }

}

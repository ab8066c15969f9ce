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
import dev.fanout.function.idempotency.BatchReadAhead;
import dev.fanout.function.idempotency.DynamoDbIdempotencyStore;
import dev.fanout.testing.Dynalite;
import dev.fanout.work.FunctionTarget;
import dev.fanout.work.Idempotency;
import dev.fanout.work.Idempotent;
import dev.fanout.work.IdempotencyStore;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * What idempotency adds per item (docs/idempotency.md), and the two designs of a batch's lookups side by side in one
 * run: per-item conditional claims (what Fanout does) and a {@link BatchReadAhead} ({@code BatchGetItem} for the whole
 * batch before it runs, then a claim for each item the read did not settle). No-op items run through the engine at an
 * engine bound of 1 (items one after the other: each request's latency) and of 100, plain, then idempotent against
 * dynalite: a first delivery (claim and completion) and a redelivery (the stored output). Each round uses fresh
 * tables; the order of the two designs alternates between rounds. Prints each round's wall time per item (the
 * read-ahead included), the items' median duration, the store's requests per item and the function's runs (a
 * redelivery must run nothing), then the medians and the ratios. Not part of {@code -Pbench}:
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) dev.fanout.bench.IdempotencyOverhead [items at bound 100] [items at bound 1] [rounds]
 * </pre>
 */
public final class IdempotencyOverhead {

    static final ObjectMapper MAPPER = new ObjectMapper();

    /** The function: nothing but its output, so an item's time is the engine's and the store's. */
    public static final class Work {
        final AtomicLong runs = new AtomicLong();

        public JsonNode plain(JsonNode payload) {
            return payload;
        }

        @Idempotent
        public JsonNode guarded(JsonNode payload) {
            runs.incrementAndGet();
            return payload;
        }
    }

    record Figures(long wallMs, double wallPerItemMs, double medianMs, double requestsPerItem, int succeeded,
            long runs) {
        @Override
        public String toString() {
            return String.format("wall %5d ms (%6.2f ms/item)  item median %7.2f ms  requests/item %.3f  succeeded %d"
                    + "  runs %d", wallMs, wallPerItemMs, medianMs, requestsPerItem, succeeded, runs);
        }
    }

    /** One design's rounds at one bound. */
    record Series(List<Figures> first, List<Figures> replay) {
        Series() {
            this(new ArrayList<>(), new ArrayList<>());
        }
    }

    public static void main(String[] args) throws Exception {
        int itemsAt100 = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int itemsAt1 = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        // {bound, items, rounds}: items one at a time; a large batch in parallel; an SQS batch of 10 (the
        // default batch size), where one more round trip before the batch weighs most
        int[][] configurations = { { 1, itemsAt1, rounds }, { 100, itemsAt100, rounds }, { 10, 10, rounds * 10 } };
        AtomicLong requests = new AtomicLong();
        try (Dynalite dynalite = Dynalite.start();
                DynamoDbClient client = Dynalite.client(dynalite.endpoint(), operation -> requests.incrementAndGet())) {
            System.out.printf("bound 1: %d items, bound 100: %d items, %d rounds; bound 10: 10 items, %d rounds;"
                    + " each after a warm-up round; dynalite %s on %s (refused claims return their record, as"
                    + " DynamoDB's do)%n", itemsAt1, itemsAt100, rounds, rounds * 10, Dynalite.VERSION,
                    dynalite.endpoint());
            StringBuilder summary = new StringBuilder();
            for (int[] configuration : configurations) {
                int bound = configuration[0];
                int items = configuration[1];
                int roundsHere = configuration[2];
                List<Figures> plain = new ArrayList<>();
                Series perItem = new Series();
                Series readAhead = new Series();
                for (int round = 0; round <= roundsHere; round++) { // round 0 warms up
                    Work work = new Work();
                    Figures p = run(functions(work, new DynamoDbIdempotencyStore(client, dynalite.createTable())),
                            "plain", "p" + round, items, bound, requests, work, null);
                    Figures[] claims = new Figures[2];
                    Figures[] read = new Figures[2];
                    for (int design : round % 2 == 0 ? new int[] { 0, 1 } : new int[] { 1, 0 }) {
                        String table = dynalite.createTable();
                        String ids = (design == 0 ? "c" : "b") + round + "-";
                        Figures[] into = design == 0 ? claims : read;
                        for (int delivery = 0; delivery < 2; delivery++) {
                            into[delivery] = design == 0
                                    ? run(functions(work, new DynamoDbIdempotencyStore(client, table)), "guarded", ids,
                                            items, bound, requests, work, null)
                                    : run(null, "guarded", ids, items, bound, requests, work,
                                            new ReadAhead(client, table));
                        }
                    }
                    if (round > 0) {
                        plain.add(p);
                        perItem.first().add(claims[0]);
                        perItem.replay().add(claims[1]);
                        readAhead.first().add(read[0]);
                        readAhead.replay().add(read[1]);
                        if (roundsHere <= 10) { // the 10-item batches' rounds are too many to print
                            System.out.printf("bound %d, round %d%n  plain                     %s%n"
                                    + "  per-item claims, first    %s%n  per-item claims, replay   %s%n"
                                    + "  batch read-ahead, first   %s%n  batch read-ahead, replay  %s%n", bound, round,
                                    p, claims[0], claims[1], read[0], read[1]);
                        }
                    }
                }
                summary.append(summary(bound, items, roundsHere, plain, perItem, readAhead));
            }
            System.out.print(summary);
        }
    }

    static String summary(int bound, int items, int rounds, List<Figures> plain, Series perItem, Series readAhead) {
        StringBuilder out = new StringBuilder(String.format("%nbound %d, %d items, median of %d rounds"
                + " (wall ms per item / item median ms / requests per item / runs):%n", bound, items, rounds));
        out.append(String.format("  plain                     %6.2f / %7.2f / %.3f%n", median(plain, Figures::wallPerItemMs),
                median(plain, Figures::medianMs), 0.0));
        for (String[] row : new String[][] { { "per-item claims, first  ", "c0" }, { "per-item claims, replay ", "c1" },
                { "batch read-ahead, first ", "b0" }, { "batch read-ahead, replay", "b1" } }) {
            Series series = row[1].charAt(0) == 'c' ? perItem : readAhead;
            List<Figures> figures = row[1].charAt(1) == '0' ? series.first() : series.replay();
            out.append(String.format("  %s  %6.2f / %7.2f / %.3f / %d%n", row[0], median(figures, Figures::wallPerItemMs),
                    median(figures, Figures::medianMs), median(figures, Figures::requestsPerItem),
                    (long) median(figures, Figures::runs)));
        }
        out.append(String.format("  read-ahead / per-item, wall per item: first %.2f, replay %.2f;"
                + " requests: first %.3f, replay %.3f%n",
                median(readAhead.first(), Figures::wallPerItemMs) / median(perItem.first(), Figures::wallPerItemMs),
                median(readAhead.replay(), Figures::wallPerItemMs) / median(perItem.replay(), Figures::wallPerItemMs),
                median(readAhead.first(), Figures::requestsPerItem) / median(perItem.first(), Figures::requestsPerItem),
                median(readAhead.replay(), Figures::requestsPerItem) / median(perItem.replay(), Figures::requestsPerItem)));
        return out.toString();
    }

    /** The read-ahead design: its read is part of the batch's time, as it would be part of the invocation's. */
    record ReadAhead(DynamoDbClient client, String table) {
    }

    static ItemFunctions functions(Work work, IdempotencyStore store) throws NoSuchMethodException {
        return ItemFunctions.builder(MAPPER)
                .idempotency(new Idempotency(store, Duration.ofHours(1), Set.of(), Clock.systemUTC()))
                .add("plain", method("plain"), FunctionTarget.shared(work))
                .add("guarded", method("guarded"), FunctionTarget.shared(work))
                .build();
    }

    static Figures run(ItemFunctions functions, String type, String ids, int items, int bound, AtomicLong requests,
            Work work, ReadAhead readAhead) throws Exception {
        ItemParser parser = new ItemParser(MAPPER, Optional.empty());
        List<ParsedItem> batch = new ArrayList<>(items);
        List<String> keys = new ArrayList<>(items);
        for (int i = 0; i < items; i++) {
            batch.add(parser.parse("{\"id\":\"" + ids + i + "\",\"type\":\"" + type + "\",\"payload\":{\"n\":"
                    + i + "}}", "m-" + i, Optional.empty()));
            keys.add(type + "#" + ids + i);
        }
        long before = requests.get();
        long runsBefore = work.runs.get();
        long start = System.nanoTime();
        if (readAhead != null) {
            functions = functions(work, BatchReadAhead.read(readAhead.client(), readAhead.table(), keys, bound,
                    Duration.ofSeconds(60)));
        }
        BatchResult<JsonNode> result = new WorkerPool(Limits.of(bound)).run(Batch.of(batch), functions.dispatcher(),
                Deadline.after(Duration.ofSeconds(300)));
        long wallNanos = System.nanoTime() - start;
        double[] durations = result.outcomes().stream().map(Outcome::timing).flatMap(Optional::stream)
                .mapToDouble(t -> t.duration().toNanos() / 1e6).sorted().toArray();
        int succeeded = (int) result.outcomes().stream().filter(Outcome::isSuccess).count();
        if (succeeded != items) {
            throw new IllegalStateException(type + ": " + succeeded + " of " + items + " succeeded: "
                    + result.outcomes().stream().filter(o -> !o.isSuccess()).findFirst());
        }
        return new Figures(wallNanos / 1_000_000, wallNanos / 1e6 / items, percentile(durations, 0.5),
                (requests.get() - before) / (double) items, succeeded, work.runs.get() - runsBefore);
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

    private IdempotencyOverhead() {
    }

}

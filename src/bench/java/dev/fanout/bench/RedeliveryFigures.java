package dev.fanout.bench;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;

import dev.fanout.testing.FanoutSettings;
import dev.fanout.batch.RecordBatch;
import dev.fanout.batch.Redelivery;
import dev.fanout.batch.RedeliveryBackoff;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.QueueUrls;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.fanin.SqsVisibility;
import dev.fanout.function.SqsBatchProcessor;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.SqsEvents;
import dev.fanout.work.ItemParser;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.http.HttpCallFunction;
import dev.fanout.work.http.HttpSettings;
import dev.fanout.work.http.ServiceHolds;
import dev.fanout.work.http.SsrfGuard;
import dev.fanout.work.limits.LimitAlgorithm;
import dev.fanout.work.limits.LimitSettings;
import dev.fanout.work.limits.ServiceLimits;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * Figures of the redelivery backoff (docs/redelivery.md) for a downstream service that answers 503 for its first
 * {@code outage} seconds and then recovers.
 * <ol>
 * <li>The policy alone, computed with {@link RedeliveryBackoff} itself (100,000 records, a seeded random): the share
 * of records whose deliveries are used up during the outage (dead-lettered although the service recovers), for
 * each jitter and base delay, with a queue's maxReceiveCount of 5.</li>
 * <li>End to end against ElasticMQ: {@code records} records on a work queue (visibility timeout {@code visibility}
 * seconds, maxReceiveCount {@code maxReceives}, a dead-letter queue), the SQS entry point in process, an emulated
 * event source mapping (batches of 100, 100 items at once); each record is an {@code http} item (the built-in, one
 * attempt per delivery) that calls the service, which answers 503 with {@code Retry-After: retryAfter} (none if 0)
 * during the outage. Runs (all four unless named, comma-separated): {@link Run#NO_BACKOFF} (the queue's visibility
 * timeout, every item sent), {@link Run#BACKOFF} (the defaults: decorrelated, base 10 s, max 15 min; every item
 * sent), {@link Run#BACKOFF_AND_HOLD} (the backoff and the http item's {@link ServiceHolds}) and {@link Run#AS_DEPLOYED}
 * (those and the service's adaptive limit, as a deployment's defaults have it): the calls the
 * service received (failed and succeeded), the records that succeeded and those dead-lettered, the time of the
 * last success and the time until the work queue was empty. Prints figures; asserts nothing. With {@code records} 0
 * only the policy's figures are printed.</li>
 * </ol>
 *
 * <pre>
 * ./mvnw -B test-compile -DskipTests
 * # records, outage s, visibility timeout s, maxReceiveCount, Retry-After s (0: none), [runs]
 * ./mvnw -B org.codehaus.mojo:exec-maven-plugin:3.6.2:exec -Dexec.executable=java -Dexec.classpathScope=test \
 *     -Dexec.args="-classpath %classpath dev.fanout.bench.RedeliveryFigures 1000 60 10 10 10"
 * </pre>
 */
public final class RedeliveryFigures {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** The policy table's maxReceiveCount (the template's). */
    private static final int MAX_RECEIVES = 5;

    /** What a run turns on: the backoff of handed-back records, and the services' holds of the http item. */
    enum Run {
        NO_BACKOFF("no backoff, no hold (the queue's visibility timeout)", false, false, false),
        BACKOFF("backoff (decorrelated, base 10 s), no hold", true, false, false),
        BACKOFF_AND_HOLD("backoff and the service's hold (when it asks, or after 5 failures in a row)", true, true, false),
        AS_DEPLOYED("backoff, hold and the service's adaptive limit (the defaults: AIMD from 20)", true, true, true);

        final String label;
        final boolean backoff;
        final boolean hold;
        final boolean limits;

        Run(String label, boolean backoff, boolean hold, boolean limits) {
            this.label = label;
            this.backoff = backoff;
            this.hold = hold;
            this.limits = limits;
        }
    }

    private RedeliveryFigures() {
    }

    public static void main(String[] args) throws Exception {
        int records = args.length > 0 ? Integer.parseInt(args[0]) : 1_000;
        int outage = args.length > 1 ? Integer.parseInt(args[1]) : 60;
        int visibility = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int maxReceives = args.length > 3 ? Integer.parseInt(args[3]) : 10;
        int retryAfter = args.length > 4 ? Integer.parseInt(args[4]) : 10;
        List<Run> runs = args.length > 5
                ? java.util.Arrays.stream(args[5].split(",")).map(r -> Run.valueOf(r.strip())).toList()
                : List.of(Run.values());
        policyTable(outage);
        if (records == 0) {
            return; // the policy's figures alone
        }
        System.out.println();
        System.out.printf(Locale.ROOT, "End to end: %d records, service answers 503 %s for %d s, queue visibility timeout %d s,"
                + " maxReceiveCount %d%n", records, retryAfter > 0 ? "with Retry-After " + retryAfter : "without Retry-After",
                outage, visibility, maxReceives);
        System.out.println("| run | calls to the service | failed (503) | succeeded records | dead-lettered | last success after"
                + " | queue empty after |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (Run run : runs) {
            System.out.println(endToEnd(records, outage, visibility, maxReceives, retryAfter, run));
        }
    }

    /** The share of records dead-lettered by an outage, from the policy's own draws. */
    static void policyTable(int outage) {
        int n = 100_000;
        System.out.printf(Locale.ROOT, "Policy: a record failing from t=0 through a %d s outage, maxReceiveCount %d (%d records,"
                + " seeded; processing time left out)%n", outage, MAX_RECEIVES, n);
        System.out.println("| jitter | base | dead-lettered | failed deliveries per record (mean) | the 4 delays before"
                + " the 5th delivery: least, mean |");
        System.out.println("|---|---|---|---|---|");
        var failed = new Outcome.Failed<>(new IllegalStateException("503"), true,
                new Outcome.Timing(Instant.EPOCH, Duration.ZERO));
        for (RedeliveryBackoff.Jitter jitter : RedeliveryBackoff.Jitter.values()) {
            for (int base : new int[] { 5, 10, 20, 30 }) {
                var random = new SplittableRandom(42);
                var policy = new RedeliveryBackoff(new RedeliveryBackoff.Settings(Duration.ofSeconds(base),
                        Duration.ofMinutes(15), Duration.ofSeconds(2), jitter), () -> random);
                int dead = 0;
                long failures = 0;
                long leastFour = Long.MAX_VALUE;
                long sumFour = 0;
                for (int r = 0; r < n; r++) {
                    long four = 0;
                    for (int delivery = 1; delivery < MAX_RECEIVES; delivery++) {
                        four += policy.delayOf(failed, delivery).delay().toSeconds();
                    }
                    leastFour = Math.min(leastFour, four);
                    sumFour += four;
                    // delivery k comes at the sum of the delays after deliveries 1..k-1; one during the outage fails,
                    // and a record whose last allowed delivery fails is dead-lettered
                    long t = 0;
                    for (int delivery = 1; delivery <= MAX_RECEIVES && t < outage; delivery++) {
                        failures++;
                        if (delivery == MAX_RECEIVES) {
                            dead++;
                        } else {
                            t += policy.delayOf(failed, delivery).delay().toSeconds();
                        }
                    }
                }
                System.out.printf(Locale.ROOT, "| %s | %d s | %.1f %% | %.2f | %d s, %.0f s |%n",
                        jitter.name().toLowerCase(Locale.ROOT), base, 100.0 * dead / n, (double) failures / n, leastFour,
                        (double) sumFour / n);
            }
        }
    }

    static String endToEnd(int records, int outage, int visibility, int maxReceives, int retryAfter, Run run)
            throws Exception {
        var calls = new AtomicInteger();
        var failedCalls = new AtomicInteger();
        var lastSuccess = new java.util.concurrent.atomic.AtomicLong();
        // the outage starts with the first invocation
        var outageStart = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
        HttpServer service = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        service.createContext("/", exchange -> {
            calls.incrementAndGet();
            boolean down = System.nanoTime() - outageStart.get() < Duration.ofSeconds(outage).toNanos();
            if (down) {
                failedCalls.incrementAndGet();
                if (retryAfter > 0) {
                    exchange.getResponseHeaders().add("Retry-After", Integer.toString(retryAfter));
                }
            } else {
                lastSuccess.accumulateAndGet(System.nanoTime(), Math::max);
            }
            exchange.sendResponseHeaders(down ? 503 : 200, -1);
            exchange.close();
        });
        service.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        service.start();
        String url = "http://127.0.0.1:" + service.getAddress().getPort() + "/";
        // the built-in http item, one attempt per delivery (each delivery calls the service once)
        try (ElasticMq sqs = ElasticMq.start(); var http = new HttpCallFunction(
                FanoutSettings.http("allow", "127.0.0.1/32", "max-attempts", "1"), SsrfGuard.Resolver.SYSTEM,
                run.hold ? ServiceHolds.withHoldAfterFailures(ServiceHolds.HOLD_AFTER_FAILURES) : ServiceHolds.off())) {
            String dlq = sqs.createQueue("redelivery-dlq");
            String dlqArn = ElasticMq.attribute(sqs.client(), dlq, QueueAttributeName.QUEUE_ARN);
            String work = sqs.client().createQueue(r -> r.queueName("redelivery-work").attributes(Map.of(
                    QueueAttributeName.VISIBILITY_TIMEOUT, Integer.toString(visibility),
                    QueueAttributeName.REDRIVE_POLICY, "{\"maxReceiveCount\":\"" + maxReceives
                            + "\",\"deadLetterTargetArn\":\"" + dlqArn + "\"}"))).queueUrl();
            String results = sqs.createQueue("redelivery-results");
            String arn = ElasticMq.attribute(sqs.client(), work, QueueAttributeName.QUEUE_ARN);
            var functions = TestFunctions.builder(MAPPER).add(http);
            if (run.limits) {
                functions.serviceLimits(new ServiceLimits(new LimitSettings(true, LimitAlgorithm.AIMD, 20, 2, 1000, 256)));
            }
            var handlers = functions.build();
            var sinkSettings = FanoutSettings.results(results);
            var batch = new RecordBatch(new WorkerPool(Limits.of(100).withCutoffMargin(Duration.ofSeconds(2))), handlers,
                    new ItemParser(MAPPER, Optional.empty()), new SqsResultsSink(sqs.client(), sinkSettings), MAPPER,
                    new RecordBatch.Settings(Duration.ofMillis(250), false));
            SqsBatchProcessor processor = run.backoff
                    ? new SqsBatchProcessor(batch, Optional.of(new Redelivery(new RedeliveryBackoff(
                            new RedeliveryBackoff.Settings(Duration.ofSeconds(10), Duration.ofMinutes(15),
                                    Duration.ofSeconds(2), RedeliveryBackoff.Jitter.DECORRELATED)),
                            new SqsVisibility(sqs.client(), SqsVisibility.Settings.defaults()), Duration.ofMillis(100))),
                            a -> QueueUrls.fromArn(a, Optional.of(sqs.endpoint())))
                    : new SqsBatchProcessor(batch);
            seed(sqs, work, records, url);
            long start = System.nanoTime();
            outageStart.set(start);
            long limit = start + Duration.ofMinutes(15).toNanos();
            while (outstanding(sqs, work) > 0 && System.nanoTime() < limit) {
                List<Message> received = receive(sqs, work);
                if (received.isEmpty()) {
                    continue;
                }
                var invocation = processor.process(SqsEvents.parse(event(received, arn)), Deadline.after(Duration.ofSeconds(30)));
                var reported = new java.util.HashSet<String>();
                invocation.response().getBatchItemFailures().forEach(f -> reported.add(f.getItemIdentifier()));
                List<DeleteMessageBatchRequestEntry> delete = new ArrayList<>();
                for (int i = 0; i < received.size(); i++) {
                    if (!reported.contains(received.get(i).messageId())) {
                        delete.add(DeleteMessageBatchRequestEntry.builder().id(Integer.toString(i))
                                .receiptHandle(received.get(i).receiptHandle()).build());
                    }
                }
                for (int from = 0; from < delete.size(); from += 10) {
                    var chunk = delete.subList(from, Math.min(from + 10, delete.size()));
                    sqs.client().deleteMessageBatch(r -> r.queueUrl(work).entries(chunk));
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            int dead = count(sqs, dlq);
            int succeeded = calls.get() - failedCalls.get();
            double lastSuccessAfter = lastSuccess.get() == 0 ? 0 : (lastSuccess.get() - start) / 1e9;
            return String.format(Locale.ROOT, "| %s | %,d | %,d | %,d | %,d | %.0f s | %.0f s |", run.label, calls.get(),
                    failedCalls.get(), succeeded, dead, lastSuccessAfter, seconds);
        } finally {
            service.stop(0);
        }
    }

    static void seed(ElasticMq sqs, String queue, int n, String url) {
        for (int from = 0; from < n; from += 10) {
            int start = from;
            List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
            for (int i = start; i < Math.min(start + 10, n); i++) {
                entries.add(SendMessageBatchRequestEntry.builder().id("e" + i)
                        .messageBody(SqsEvents.item(HttpCallFunction.TYPE, "{\"url\":\"" + url + "?n=" + i + "\"}")).build());
            }
            sqs.client().sendMessageBatch(r -> r.queueUrl(queue).entries(entries));
        }
    }

    /** Up to 100 messages, waiting up to a second for the first. */
    static List<Message> receive(ElasticMq sqs, String queue) {
        List<Message> batch = new ArrayList<>();
        while (batch.size() < 100) {
            var received = sqs.client().receiveMessage(r -> r.queueUrl(queue).maxNumberOfMessages(10)
                    .waitTimeSeconds(batch.isEmpty() ? 1 : 0).messageSystemAttributeNamesWithStrings("All")).messages();
            if (received.isEmpty()) {
                break;
            }
            batch.addAll(received);
        }
        return batch;
    }

    static String event(List<Message> messages, String arn) {
        ObjectNode event = MAPPER.createObjectNode();
        ArrayNode records = event.putArray("Records");
        for (Message m : messages) {
            SqsEvents.addRecord(records, m.messageId(), m.receiptHandle(), m.body(), m.attributesAsStrings(),
                    m.md5OfBody(), arn);
        }
        return event.toString();
    }

    static int outstanding(ElasticMq sqs, String queue) {
        return Integer.parseInt(ElasticMq.attribute(sqs.client(), queue, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
                + Integer.parseInt(ElasticMq.attribute(sqs.client(), queue,
                        QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
    }

    static int count(ElasticMq sqs, String queue) {
        return Integer.parseInt(ElasticMq.attribute(sqs.client(), queue, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES));
    }
}

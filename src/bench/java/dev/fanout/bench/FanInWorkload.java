package dev.fanout.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import dev.fanout.engine.Deadline;
import dev.fanout.fanin.Delivery;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.testing.ElasticMq;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * Workload 5, fan-in: 10,000 results of a realistic size to a real SQS-compatible queue (ElasticMQ in the
 * suite's JVM), sent four ways from a child JVM: one SendMessage per result, one at a time or C at once;
 * SendMessageBatch one batch at a time; and Fanout's results sink, C batches at once. The child counts
 * what the queue holds afterwards, so a fast but lossy way would show.
 */
public final class FanInWorkload implements Workload {

    /**
     * @param results        results per run
     * @param reducedResults results measured for the one-at-a-time SendMessage way, its wall time scaled up
     * @param bodyBytes      size of a result's JSON body
     * @param concurrency    requests in flight for the concurrent ways (Fanout's default send concurrency)
     */
    public record Settings(int results, int reducedResults, int bodyBytes, int concurrency) {
        public static final Settings FULL = new Settings(10_000, 2_000, 320, 16);
        public static final Settings SMOKE = new Settings(40, 20, 100, 4);
    }

    enum Method {
        BATCH_CONCURRENT("Fanout results sink: SendMessageBatch, C batches in flight"),
        BATCH_SEQUENTIAL("SendMessageBatch, one batch at a time"),
        MESSAGE_CONCURRENT("SendMessage per result, C in flight"),
        MESSAGE_SEQUENTIAL("SendMessage per result, one at a time");

        final String label;

        Method(String label) {
            this.label = label;
        }
    }

    /** One run: {@code measured} results sent in {@code wallNanos}; the queue then held {@code onQueue}. */
    public record Run(String method, int results, int measured, long wallNanos, int requests, int onQueue) {
        double scaledWallSeconds() {
            return wallNanos / 1e9 * results / measured;
        }
    }

    private final Settings settings;

    public FanInWorkload(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String id() {
        return "fanin";
    }

    @Override
    public ReportSection run(SuiteContext context) throws Exception {
        List<Run> runs = new ArrayList<>();
        try (ElasticMq sqs = ElasticMq.start()) {
            for (int rep = 1; rep <= context.repetitions(); rep++) {
                for (Method method : Method.values()) {
                    Options options = Options.builder().put("endpoint", sqs.endpoint())
                            .put("method", method.name())
                            .put("results", settings.results())
                            .put("measured", method == Method.MESSAGE_SEQUENTIAL ? settings.reducedResults() : settings.results())
                            .put("bodyBytes", settings.bodyBytes())
                            .put("concurrency", settings.concurrency())
                            .put("queue", "fanin-" + rep + "-" + method.name().toLowerCase(Locale.ROOT).replace('_', '-'))
                            .build();
                    Run run = context.jvm().run(id(), options, Duration.ofMinutes(10)).one("fanin", Run.class);
                    runs.add(run);
                    context.log().accept(String.format(Locale.ROOT, "fanin rep %d %s %.3f s, %d requests, %d on the queue",
                            rep, method, run.scaledWallSeconds(), run.requests(), run.onQueue()));
                }
            }
        }
        return render(runs);
    }

    // ---------------------------------------------------------------- child side

    @Override
    public void child(Options options) throws Exception {
        Method method = Method.valueOf(options.get("method"));
        int measured = options.intValue("measured");
        int concurrency = options.intValue("concurrency");
        try (SqsClient sqs = ElasticMq.client(java.net.URI.create(options.get("endpoint")))) {
            String warmUpQueue = create(sqs, options.get("queue") + "-warm-up");
            send(sqs, warmUpQueue, method, messages(200, options.intValue("bodyBytes")), concurrency);
            String queue = create(sqs, options.get("queue"));
            List<ResultMessage> messages = messages(measured, options.intValue("bodyBytes"));
            long start = System.nanoTime();
            int requests = send(sqs, queue, method, messages, concurrency);
            long wall = System.nanoTime() - start;
            int onQueue = Integer.parseInt(ElasticMq.attribute(sqs, queue, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES));
            ResultLine.emit("fanin", new Run(method.name(), options.intValue("results"), measured, wall, requests, onQueue));
        }
    }

    private static String create(SqsClient sqs, String name) {
        return sqs.createQueue(r -> r.queueName(name)).queueUrl();
    }

    /** Results shaped like the SQS function's: a JSON body and the status attribute. */
    static List<ResultMessage> messages(int count, int bodyBytes) {
        List<ResultMessage> messages = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String head = "{\"sourceMessageId\":\"m-" + i + "\",\"itemId\":\"item-" + i
                    + "\",\"type\":\"http\",\"status\":\"succeeded\",\"output\":{\"body\":\"";
            String tail = "\"},\"attempt\":1}";
            String body = head + "x".repeat(Math.max(0, bodyBytes - head.length() - tail.length())) + tail;
            messages.add(new ResultMessage(body, Map.of("status", "succeeded"), Optional.empty(), Optional.empty()));
        }
        return messages;
    }

    /** Sends every message the given way; returns the number of requests. */
    static int send(SqsClient sqs, String queue, Method method, List<ResultMessage> messages, int concurrency)
            throws InterruptedException {
        return switch (method) {
            case BATCH_CONCURRENT, BATCH_SEQUENTIAL -> {
                int sendConcurrency = method == Method.BATCH_CONCURRENT ? concurrency : 1;
                var settings = new SqsResultsSink.Settings(queue, SqsResultsSink.SQS_MAX_BYTES, SqsResultsSink.SQS_MAX_BYTES,
                        sendConcurrency, 5, Duration.ofMillis(50), Duration.ofSeconds(1), Duration.ofMillis(50));
                Delivery delivery = new SqsResultsSink(sqs, settings).deliver(messages, Deadline.after(Duration.ofMinutes(5)));
                if (delivery.deliveredCount() != messages.size()) {
                    throw new IllegalStateException(messages.size() - delivery.deliveredCount() + " results not delivered");
                }
                yield delivery.requests();
            }
            case MESSAGE_SEQUENTIAL -> {
                messages.forEach(m -> sendOne(sqs, queue, m));
                yield messages.size();
            }
            case MESSAGE_CONCURRENT -> {
                var next = new AtomicInteger();
                List<Thread> workers = new ArrayList<>();
                for (int w = 0; w < concurrency; w++) {
                    workers.add(Thread.ofVirtual().start(() -> {
                        int i;
                        while ((i = next.getAndIncrement()) < messages.size()) {
                            sendOne(sqs, queue, messages.get(i));
                        }
                    }));
                }
                for (Thread worker : workers) {
                    worker.join();
                }
                yield messages.size();
            }
        };
    }

    private static void sendOne(SqsClient sqs, String queue, ResultMessage message) {
        sqs.sendMessage(r -> r.queueUrl(queue).messageBody(message.body()).messageAttributes(Map.of("status",
                MessageAttributeValue.builder().dataType("String").stringValue(message.attributes().get("status")).build())));
    }

    // ---------------------------------------------------------------- report

    private ReportSection render(List<Run> runs) {
        Stats fanout = wall(runs, Method.BATCH_CONCURRENT);
        List<List<String>> rows = new ArrayList<>();
        for (Method method : Method.values()) {
            List<Run> mine = runs.stream().filter(r -> r.method().equals(method.name())).toList();
            Stats wall = wall(runs, method);
            Run any = mine.getFirst();
            boolean scaled = any.measured() != any.results();
            double requestsPerResult = (double) any.requests() / any.measured();
            boolean complete = mine.stream().allMatch(r -> r.onQueue() == r.measured());
            rows.add(List.of(method.label, Markdown.integer(any.measured()) + (scaled ? " ᵉ" : ""),
                    Markdown.range(wall) + (scaled ? " ᵉ" : ""), Markdown.times(wall.median() / fanout.median()),
                    Markdown.integer(Math.round(any.results() / wall.median())), Markdown.num(requestsPerResult),
                    complete ? "all" : "MISSING"));
        }
        Stats perMessage = wall(runs, Method.MESSAGE_CONCURRENT);
        double fanoutRequestsPerResult = requestsPerResult(runs, Method.BATCH_CONCURRENT);
        double perMessageRequestsPerResult = requestsPerResult(runs, Method.MESSAGE_CONCURRENT);
        String key = String.format(Locale.ROOT,
                "Fan-in: Fanout's sink put %s results on the queue in %s s (%s results/s, %s requests per result); "
                        + "one SendMessage per result with the same %d in flight took %s (×%s), one at a time %s.",
                Markdown.integer(settings.results()), Markdown.num(fanout.median()),
                Markdown.integer(Math.round(settings.results() / fanout.median())),
                Markdown.num(fanoutRequestsPerResult), settings.concurrency(), Markdown.num(perMessage.median()) + " s",
                Markdown.num(perMessage.median() / fanout.median()),
                Markdown.num(wall(runs, Method.MESSAGE_SEQUENTIAL).median()) + " s (extrapolated)");
        String md = """
                %s results of %d bytes of JSON each (the shape of the SQS function's results, with the `status` \
                attribute) are sent to a queue of an ElasticMQ server running in the suite's JVM, from a child JVM \
                per run and way. Each child first sends 200 results the same way to warm up, then the measured \
                batch, then asks the queue how many messages it holds ("On the queue" says "all" when it held every \
                result of every run). C = %d sends in flight (`fanout.results.send-concurrency`). The one-at-a-time \
                SendMessage way was measured on %s results and its wall time scaled up (ᵉ).

                %s

                * **Requests per result** is what SQS bills: $%s per million requests (standard queue, beyond the \
                free tier, us-east-1; an assumption like the Lambda prices). Per million results that is $%s with \
                Fanout's sink against $%s with one SendMessage per result.
                * ElasticMQ answers from memory on the same 2 cores, so absolute rates are not SQS's: a real \
                SendMessageBatch takes about 10 to 30 ms across the network, which makes batching and concurrency \
                matter more, not less. For the SQS function this is the time its cut-off margin must leave: at \
                this machine's rate a 10,000-record batch needs %s s of fan-in.
                """.formatted(Markdown.integer(settings.results()), settings.bodyBytes(), settings.concurrency(),
                Markdown.integer(settings.reducedResults()),
                Markdown.table(List.of("Way", "Results measured", "Wall time, s", "vs Fanout", "Results per second",
                        "Requests per result", "On the queue"), rows),
                Markdown.num(SQS_PRICE_PER_MILLION_REQUESTS),
                Markdown.num(SQS_PRICE_PER_MILLION_REQUESTS * fanoutRequestsPerResult),
                Markdown.num(SQS_PRICE_PER_MILLION_REQUESTS * perMessageRequestsPerResult),
                Markdown.num(fanout.median()));
        return new ReportSection(id(), "5. Fan-in to the results queue", List.of(key), md, List.of());
    }

    /** SQS standard queue, per million requests after the free tier, us-east-1 (AWS price list, 2025). */
    static final double SQS_PRICE_PER_MILLION_REQUESTS = 0.40;

    private static double requestsPerResult(List<Run> runs, Method method) {
        Run run = runs.stream().filter(r -> r.method().equals(method.name())).findFirst().orElseThrow();
        return (double) run.requests() / run.measured();
    }

    private static Stats wall(List<Run> runs, Method method) {
        return Stats.of(runs.stream().filter(r -> r.method().equals(method.name())).map(Run::scaledWallSeconds).toList());
    }
}

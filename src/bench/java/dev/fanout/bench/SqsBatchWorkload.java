package dev.fanout.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.JsonNode;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.SqsEvents;

/**
 * Workload 7, the SQS function end to end: a 10,000-record event (the largest an event source mapping
 * sends) of 20 ms items at concurrency 500, through the packaged function under the Runtime Interface
 * Client, results to ElasticMQ. Figures from the outside (time to the answer) and from the function's
 * own summary line (engine time, SendMessageBatch requests, time left at return).
 */
public final class SqsBatchWorkload implements Workload {

    public record Settings(int records, Duration itemLatency, int concurrency, Duration timeout) {
        public static final Settings FULL = new Settings(10_000, Duration.ofMillis(20), 500, Duration.ofSeconds(60));
        public static final Settings SMOKE = new Settings(200, Duration.ofMillis(2), 50, Duration.ofSeconds(30));
    }

    record Invocation(Duration answer, long engineMs, int results, int delivered, int sendRequests, long timeLeftMs,
            int batchItemFailures, int onQueue, long p95Ms) {
    }

    private final Settings settings;

    public SqsBatchWorkload(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String id() {
        return "sqsbatch";
    }

    @Override
    public ReportSection run(SuiteContext context) throws Exception {
        PackagedFunctionWorkloads.requirePackage();
        String event = SqsEvents.standard(IntStream.range(0, settings.records())
                .mapToObj(i -> SqsEvents.item("delay", "{\"millis\":" + settings.itemLatency().toMillis() + "}")).toList());
        String warmUp = SqsEvents.standard(IntStream.range(0, 500)
                .mapToObj(i -> SqsEvents.item("delay", "{\"millis\":1}")).toList());
        List<Invocation> invocations = new ArrayList<>();
        try (ElasticMq sqs = ElasticMq.start()) {
            String results = sqs.createQueue("sqsbatch-results");
            var env = Map.of("FANOUT_MAX_CONCURRENCY", Integer.toString(settings.concurrency()));
            try (var started = PackagedFunctionWorkloads.start(sqs, results, env, List.of(), false)) {
                started.api().invoke(warmUp, settings.timeout());
                sqs.client().purgeQueue(r -> r.queueUrl(results));
                for (int run = 0; run < context.repetitions(); run++) {
                    var answer = started.api().invoke(event, settings.timeout());
                    if (answer.error() || !answer.answeredBeforeDeadline()) {
                        throw new IllegalStateException("invocation failed or answered late: " + answer.body());
                    }
                    JsonNode summary = PackagedFunctionWorkloads.lastSummary(started.function());
                    int onQueue = sqs.depth(results);
                    sqs.client().purgeQueue(r -> r.queueUrl(results));
                    var invocation = new Invocation(answer.elapsed(), summary.get("engineMs").asLong(),
                            summary.get("results").asInt(), summary.get("delivered").asInt(),
                            summary.get("sendRequests").asInt(), summary.get("timeLeftMs").asLong(),
                            summary.get("batchItemFailures").asInt(), onQueue, summary.get("p95Ms").asLong());
                    invocations.add(invocation);
                    context.log().accept("sqsbatch run " + (run + 1) + ": " + invocation);
                }
            }
        }
        return render(invocations);
    }

    private ReportSection render(List<Invocation> runs) {
        double ideal = Math.ceil((double) settings.records() / settings.concurrency()) * settings.itemLatency().toMillis();
        Stats answer = Stats.of(runs.stream().map(r -> (double) r.answer().toMillis()).toList());
        Stats engine = Stats.of(runs.stream().map(r -> (double) r.engineMs()).toList());
        Stats fanIn = Stats.of(runs.stream().map(r -> (double) (r.answer().toMillis() - r.engineMs())).toList());
        Stats left = Stats.of(runs.stream().map(r -> (double) r.timeLeftMs()).toList());
        Stats perRequest = Stats.of(runs.stream().map(r -> (double) r.delivered() / r.sendRequests()).toList());
        boolean allDelivered = runs.stream().allMatch(r -> r.delivered() == settings.records()
                && r.onQueue() == settings.records() && r.batchItemFailures() == 0);
        List<List<String>> rows = List.of(
                List.of("Answer (Runtime API server's clock)", Markdown.range(answer), Markdown.percent(ideal / answer.median())),
                List.of("Engine (items on the pool)", Markdown.range(engine), Markdown.percent(ideal / engine.median())),
                List.of("Fan-in and response (answer - engine)", Markdown.range(fanIn), "–"),
                List.of("Time left at return, of " + settings.timeout().toSeconds() + " s", Markdown.range(left), "–"));
        String key = String.format(Locale.ROOT,
                "SQS function end to end: %s records of %d ms at C = %d answered in %s ms (engine %s ms against the "
                        + "ideal %s ms, %s); %s results per SendMessageBatch request; %s ms of %d s left at return; %s.",
                Markdown.integer(settings.records()), settings.itemLatency().toMillis(), settings.concurrency(),
                Markdown.num(answer.median()), Markdown.num(engine.median()), Markdown.num(ideal),
                Markdown.percent(ideal / engine.median()), Markdown.num(perRequest.median()), Markdown.num(left.median()),
                settings.timeout().toSeconds(), allDelivered ? "every result on the queue, no record handed back"
                        : "SOME RESULTS MISSING");
        String md = """
                One event of %s records (AWS's documented SQS event shape), each a `delay` item of %d ms, sent to \
                the packaged function (SQS entry point, `FANOUT_MAX_CONCURRENCY=%d`) through a Runtime API server \
                that sets a %d s deadline; results go to an ElasticMQ queue. One warm-up invocation of 500 records \
                first, then %d measured invocations on the same warm function. The ideal is \
                ceil(N / C) × L = %s ms.

                %s

                Results per SendMessageBatch request: %s (the limit is 10). Every run: %s.

                The engine's share is close to the sleeping items' ideal; the rest is fan-in (1,000 \
                SendMessageBatch requests to a queue on the same 2 cores) and the response. That fan-in time is \
                what `fanout.cutoff-margin` must leave for a batch of this size.
                """.formatted(Markdown.integer(settings.records()), settings.itemLatency().toMillis(), settings.concurrency(),
                settings.timeout().toSeconds(), runs.size(), Markdown.num(ideal),
                Markdown.table(List.of("Figure", "ms", "Efficiency"), rows), Markdown.num(perRequest.median()),
                allDelivered ? "all " + Markdown.integer(settings.records()) + " results confirmed and on the queue, "
                        + "no record in batchItemFailures" : "SOME RESULTS MISSING");
        return new ReportSection(id(), "7. The SQS function end to end", List.of(key), md, List.of());
    }
}

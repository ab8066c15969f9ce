package dev.fanout.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.RuntimeApiServer;
import dev.fanout.testing.SqsEvents;

/**
 * The cost of a logging change at cold start, and its log volume: two builds of the function zip, started
 * alternately in the same run under the Runtime Interface Client (the machine's load then hits both
 * alike). For each start: the time from the process's start to the first invocation's answer (the
 * sample event, seven records), then the bytes the function logs for one invocation of 100 records.
 *
 * <pre>java -cp target/test-classes:... dev.fanout.bench.LoggingColdStart BEFORE.zip AFTER.zip [starts]</pre>
 *
 * Each zip is copied to target/function.zip in turn (and the branch's own zip restored at the end); the
 * unpacking happens before the process starts, so it is not timed.
 */
public final class LoggingColdStart {

    record Start(String variant, long firstAnswerMillis, long logBytesFor100) {
    }

    public static void main(String[] args) throws Exception {
        Path before = Path.of(args[0]);
        Path after = Path.of(args[1]);
        int starts = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Path zip = Path.of("target", "function.zip");
        Path restore = Files.copy(zip, Path.of("target", "function.zip.restore"), StandardCopyOption.REPLACE_EXISTING);
        String first = SqsEvents.fixture("sqs-standard.json");
        String hundred = SqsEvents.standard(IntStream.range(0, 100)
                .mapToObj(i -> SqsEvents.item("digest", "{\"data\":\"item-" + i + "\"}")).toList());
        List<Start> measured = new ArrayList<>();
        try (ElasticMq sqs = ElasticMq.start()) {
            String results = sqs.createQueue("logging-coldstart-results");
            Map<String, String> env = Map.of("RESULTS_QUEUE_URL", results, "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString());
            for (int run = 0; run <= starts; run++) {
                for (String variant : List.of("before", "after")) {
                    Files.copy(variant.equals("before") ? before : after, zip, StandardCopyOption.REPLACE_EXISTING);
                    // a new stamp for each copy: the harness unpacks again when the zip's time or size changes
                    Files.setLastModifiedTime(zip, FileTime.from(Instant.now().plusSeconds(run * 2L + (variant.equals("after") ? 1 : 0))));
                    try (var api = RuntimeApiServer.start(); var function = PackagedFunction.start("sqs", api, env)) {
                        Instant processStart = ProcessHandle.of(function.pid()).flatMap(p -> p.info().startInstant())
                                .orElseThrow();
                        var answer = api.invoke(first, Duration.ofSeconds(30));
                        check(answer, function, false);
                        long firstAnswer = answer.answeredEpochMillis() - processStart.toEpochMilli();
                        long logBefore = Files.size(function.logFile());
                        check(api.invoke(hundred, Duration.ofSeconds(30)), function, true);
                        long bytes = Files.size(function.logFile()) - logBefore;
                        sqs.drain(results);
                        if (run == 0) {
                            System.out.printf(Locale.ROOT, "warm-up start %s: %d ms (not counted)%n", variant, firstAnswer);
                            continue;
                        }
                        measured.add(new Start(variant, firstAnswer, bytes));
                        System.out.printf(Locale.ROOT, "start %d %-6s first answer %5d ms, log of a 100-record invocation %d bytes%n",
                                run, variant, firstAnswer, bytes);
                    }
                }
            }
        } finally {
            Files.move(restore, zip, StandardCopyOption.REPLACE_EXISTING);
        }
        Stats b = Stats.of(measured.stream().filter(s -> s.variant().equals("before")).map(s -> (double) s.firstAnswerMillis()).toList());
        Stats a = Stats.of(measured.stream().filter(s -> s.variant().equals("after")).map(s -> (double) s.firstAnswerMillis()).toList());
        System.out.printf(Locale.ROOT, "first answer, median of %d starts each: before %.0f ms (%s), after %.0f ms (%s): x%.2f%n",
                starts, b.median(), Markdown.range(b), a.median(), Markdown.range(a), a.median() / b.median());
        // each "after" start against the "before" start just ahead of it: the load of that moment hits both
        List<Double> paired = IntStream.range(0, measured.size() / 2).mapToObj(i -> (double) measured.get(2 * i + 1)
                .firstAnswerMillis() / measured.get(2 * i).firstAnswerMillis()).toList();
        Stats ratios = Stats.of(paired);
        System.out.printf(Locale.ROOT, "after/before, start by start: median x%.2f (x%.2f to x%.2f)%n", ratios.median(),
                ratios.min(), ratios.max());
        for (String variant : List.of("before", "after")) {
            System.out.printf(Locale.ROOT, "log bytes per 100-record invocation, %s: %s%n", variant, measured.stream()
                    .filter(s -> s.variant().equals(variant)).map(s -> Long.toString(s.logBytesFor100())).distinct().toList());
        }
    }

    private static void check(RuntimeApiServer.Result answer, PackagedFunction function, boolean allAcknowledged) {
        if (answer.error() || allAcknowledged && !answer.body().contains("\"batchItemFailures\":[]")) {
            throw new IllegalStateException("unexpected answer " + answer.body() + "\n" + function.log());
        }
    }
}

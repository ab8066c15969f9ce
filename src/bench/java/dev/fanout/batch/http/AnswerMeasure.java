package dev.fanout.batch.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;

import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.RunSummary;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkItem;

/**
 * The benchmark behind the HTTP cut-off margin's default ({@code AnswerTimeFigures}, {@code TimeBudget}): it
 * times {@link ResultsAnswer}'s assembly from its own package, in the bench tree, so that the function carries
 * no code that only a benchmark runs.
 */
public final class AnswerMeasure {

    private AnswerMeasure() {
    }

    /**
     * How long assembling, writing and handing over the largest answer takes here: 1,000 results whose
     * outputs add up to twice the limit (so that half are kept and half dropped), written as the runtime
     * takes them and sent through a loopback socket as the runtime posts them; the slowest of three runs,
     * the first one cold as the first invocation is. The HTTP cut-off margin is derived from it.
     *
     * @param handOver what the runtime does with the answer's bytes (here: post them through a loopback socket)
     */
    public static Duration measure(ResultsAnswer answers, HandOver handOver) {
        int n = answers.maxItems();
        List<ParsedItem> items = new ArrayList<>(n);
        List<Outcome<ResultsAnswer.PreparedOutput>> outcomes = new ArrayList<>(n);
        var timing = new Outcome.Timing(Instant.now(), Duration.ofMillis(1));
        String output = "{\"body\":\"" + "x".repeat(Math.max(1, 2 * answers.maxResponseBytes() / n - 12)) + "\"}";
        for (int i = 0; i < n; i++) {
            items.add(new ParsedItem.Valid(new WorkItem(Integer.toString(i), "http", Optional.empty(), NullNode.getInstance())));
            outcomes.add(new Outcome.Succeeded<>(new ResultsAnswer.PreparedOutput(EscapedJson.escape(output)), timing));
        }
        var summary = new RunSummary(n, n, 0, 0, 0, 0, n, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO,
                Duration.ZERO, 0);
        var run = new BatchResult<>(outcomes, summary);
        long slowest = 0;
        for (int attempt = 0; attempt < 3; attempt++) {
            long start = System.nanoTime();
            HttpAnswer answer = answers.assemble(items, run, JsonNodeFactory.instance.objectNode(), Set.of());
            try {
                // as the runtime takes it: into a growing buffer, then posted to the Runtime API on loopback
                var out = new ByteArrayOutputStream();
                answer.writeTo(out);
                handOver.accept(out.toByteArray());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            slowest = Math.max(slowest, System.nanoTime() - start);
        }
        return Duration.ofNanos(slowest);
    }

    /** What the runtime does with an answer's bytes. */
    @FunctionalInterface
    public interface HandOver {
        void accept(byte[] answer) throws IOException;
    }

}

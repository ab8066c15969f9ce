package dev.fanout.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.ResultJson;
import dev.fanout.batch.ResultMessages;
import dev.fanout.batch.ResultRecord;
import dev.fanout.batch.http.AnswerMeasure;
import dev.fanout.batch.http.EscapedJson;
import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.batch.http.ResultsAnswer;

/**
 * The result shape's hot paths in thread CPU time per operation (median of 9 rounds after 8 s of warm-up), which a
 * loaded machine distorts far less than wall time: a 6 KB output's results-queue message, the same output prepared for
 * an HTTP answer (written once and escaped, as on its item's thread), and assembling and writing an answer of Lambda's
 * size ({@link ResultsAnswer#measure}: three answers, divided by three). {@link ResultShapeBenchmark} is the same in
 * JMH's wall time, for a quiet machine.
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) dev.fanout.bench.ResultShapeFigures
 * </pre>
 */
public final class ResultShapeFigures {

    interface Op {
        Object run() throws Exception;
    }

    static double perOpMicros(Op op, int n) throws Exception {
        var bean = ManagementFactory.getThreadMXBean();
        long start = bean.getCurrentThreadCpuTime();
        Object last = null;
        for (int i = 0; i < n; i++) {
            last = op.run();
        }
        long used = bean.getCurrentThreadCpuTime() - start;
        if (last == null) {
            throw new AssertionError("no result");
        }
        return used / 1000.0 / n;
    }

    public static void main(String[] args) throws Exception {
        var mapper = new ObjectMapper();
        String text = "a \"quoted\" line,\tcaf\u00e9 \u20ac \ud83d\ude80 and a path C:\\tmp\n".repeat(100);
        JsonNode output = mapper.createObjectNode().put("status", 200).put("body", text);
        var record = new ResultRecord("m-1", "item-1", "echo", "succeeded", output, null, 1, "2026-12-07T16:00:00Z", 12L);
        var messages = new ResultMessages(mapper);
        var writer = new ResultJson(mapper);
        var answers = new ResultsAnswer(mapper, 1_000, HttpAnswer.LAMBDA_RESPONSE_LIMIT);
        Op queue = () -> messages.message(record, null, Optional.empty()).body();
        Op prepare = () -> EscapedJson.escape(writer.outputText(output));
        Op assemble = () -> AnswerMeasure.measure(answers, bytes -> {
        });
        long until = System.nanoTime() + 8_000_000_000L;
        while (System.nanoTime() < until) {
            perOpMicros(queue, 200);
            perOpMicros(prepare, 200);
        }
        for (int i = 0; i < 3; i++) {
            perOpMicros(assemble, 1);
        }
        int rounds = 9;
        double[] q = new double[rounds];
        double[] p = new double[rounds];
        double[] a = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            q[r] = perOpMicros(queue, 2_000);
            p[r] = perOpMicros(prepare, 2_000);
            a[r] = perOpMicros(assemble, 2) / 3;
        }
        Arrays.sort(q);
        Arrays.sort(p);
        Arrays.sort(a);
        System.out.printf(Locale.ROOT, "queue message %.1f us, HTTP preparation %.1f us, answer of %,d bytes assembled and "
                + "written %.0f us (thread CPU, median of %d)%n", q[rounds / 2], p[rounds / 2],
                HttpAnswer.LAMBDA_RESPONSE_LIMIT, a[rounds / 2], rounds);
    }
}

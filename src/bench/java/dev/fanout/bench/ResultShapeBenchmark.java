package dev.fanout.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.ResultMessages;
import dev.fanout.batch.ResultRecord;
import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.batch.http.RequestBatch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;

/**
 * The result shape's two hot paths, through their public entry: an HTTP answer of Lambda's size (1,000 items whose
 * outputs of about 6 KB, text with quotes, accents and an emoji, are written once on their item's thread and then
 * assembled into the answer, which is written out), and 1,000 results as results-queue messages (each written as the
 * fan-in sends it). Not part of the suite: run it by hand to compare a change of the writer or the escaper.
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) org.openjdk.jmh.Main ResultShapeBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgs = { "-XX:+UseSerialGC", "-Xmx1g" })
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
public class ResultShapeBenchmark {

    private static final int ITEMS = 1_000;

    private final ObjectMapper mapper = new ObjectMapper();
    private RequestBatch batch;
    private List<JsonNode> nodes;
    private List<ParsedItem> items;
    private ResultMessages messages;
    private List<ResultRecord> results;

    @Setup(Level.Trial)
    public void setUp() {
        String text = "a \"quoted\" line,\tcaf\u00e9 \u20ac \ud83d\ude80 and a path C:\\tmp\n".repeat(100);
        ObjectNode output = mapper.createObjectNode().put("status", 200).put("body", text);
        batch = new RequestBatch(new WorkerPool(Limits.of(64)), TestFunctions.builder(mapper).register("echo", (payload, item) -> output).build(),
                mapper, new RequestBatch.Settings(Duration.ofSeconds(29), ITEMS, HttpAnswer.LAMBDA_RESPONSE_LIMIT, 10_000),
                Optional.empty());
        var parser = new ItemParser(mapper, Optional.empty());
        nodes = new ArrayList<>();
        items = new ArrayList<>();
        results = new ArrayList<>();
        for (int i = 0; i < ITEMS; i++) {
            String json = "{\"id\":\"item-" + i + "\",\"type\":\"echo\",\"payload\":{}}";
            ItemParser.Read read = parser.readText(json, Integer.toString(i), Optional.empty());
            nodes.add(read.json());
            items.add(read.item());
            results.add(new ResultRecord("m-" + i, "item-" + i, "echo", "succeeded", output, null, 1,
                    "2026-12-07T16:00:00Z", 12L));
        }
        messages = new ResultMessages(mapper);
    }

    /** The answer's size, after writing it as the runtime does. */
    @Benchmark
    public long httpAnswer() throws IOException {
        HttpAnswer answer = batch.answer(nodes, items, false, Deadline.after(Duration.ofSeconds(20)),
                mapper.createObjectNode());
        answer.writeTo(OutputStream.nullOutputStream());
        return answer.size();
    }

    /** The messages' sizes, summed. */
    @Benchmark
    public long queueMessages() {
        long size = 0;
        for (ResultRecord result : results) {
            size += messages.message(result, null, Optional.empty()).sizeInBytes();
        }
        return size;
    }
}

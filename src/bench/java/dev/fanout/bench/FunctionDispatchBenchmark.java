package dev.fanout.bench;

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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.engine.Batch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.ItemHandler;
import dev.fanout.engine.Limits;
import dev.fanout.engine.RunSummary;
import dev.fanout.engine.WorkerPool;
import dev.fanout.work.FunctionTarget;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkContext;
import io.quarkus.funqy.Context;

/**
 * Issue 20's figure: the per-item cost of running an item through a Funqy function ({@link ItemFunctions}'
 * dispatcher) against a no-op handler the engine calls directly, on the same engine, items already parsed.
 * {@code direct}: the engine's handler returns at once. {@code funqy-void}: a {@code void} function without
 * input. {@code funqy-record}: a record bound from the payload, the item's context injected, a record out
 * written as JSON. One batch of {@code size} items per call; the suite divides by the size.
 * Run: {@code ./mvnw -B -Pbench-dispatch verify} or JMH's main with this class's name.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 2)
public class FunctionDispatchBenchmark {

    /** The user's functions: not annotated {@code @Funq}, so that Quarkus test applications do not hold them. */
    public static class NoOps {
        public record In(int n) {
        }

        public record Out(int n) {
        }

        public void nothing() {
        }

        public Out echo(In in, @Context WorkContext item) {
            return new Out(in.n());
        }
    }

    @Param({ "direct", "funqy-void", "funqy-record" })
    public String variant;

    @Param({ "10000" })
    public int size;

    @Param({ "1000" })
    public int concurrency;

    private WorkerPool pool;
    private List<ParsedItem> items;
    private ItemHandler<ParsedItem, ?> handler;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        var mapper = new ObjectMapper();
        pool = new WorkerPool(Limits.of(concurrency));
        var parser = new ItemParser(mapper, Optional.empty());
        var functions = ItemFunctions.builder(mapper)
                .add("nothing", NoOps.class.getMethod("nothing"), FunctionTarget.shared(new NoOps()))
                .add("echo", NoOps.class.getMethod("echo", NoOps.In.class, WorkContext.class),
                        FunctionTarget.shared(new NoOps()))
                .build();
        items = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            String body = switch (variant) {
                case "funqy-record" -> "{\"type\":\"echo\",\"payload\":{\"n\":" + i + "}}";
                default -> "{\"type\":\"nothing\"}";
            };
            items.add(parser.parse(body, "m-" + i, Optional.empty()));
        }
        handler = variant.equals("direct") ? context -> null : functions.dispatcher();
    }

    @Benchmark
    public RunSummary batch() {
        return pool.run(Batch.of(items), handler, Deadline.after(Duration.ofMinutes(5))).summary();
    }
}

package dev.fanout.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Workload 3 in JMH: the average time of one batch of no-op items, per strategy and batch size. The
 * strategy is built once per trial, as a Lambda handler would keep it between invocations. The suite
 * divides the score by the batch size.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class OverheadBenchmark {

    private static final Strategy.Task<Integer> NO_OP = item -> item;

    @Param({"fanout", "vt-semaphore", "mutiny", "cf-virtual", "pool-200", "pool-cores", "parallel-stream", "sequential"})
    public String strategy;

    @Param({"100", "1000", "10000"})
    public int size;

    @Param({"1000"})
    public int concurrency;

    private Strategy running;
    private List<Integer> items;

    @Setup(Level.Trial)
    public void setUp() {
        running = Strategies.byId(strategy).create(concurrency);
        items = IoWorkload.range(size);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        running.close();
    }

    @Benchmark
    public Strategy.Tally batch() throws Exception {
        return running.run(items, NO_OP);
    }
}

package dev.fanout.bench;

import java.util.Arrays;

/**
 * Main class of the child JVMs: {@code BenchChild <workload> key=value...}. Runs the workload's child side,
 * which prints its figures as result lines, then exits (also when a strategy left threads behind).
 */
public final class BenchChild {

    private BenchChild() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            throw new IllegalArgumentException("usage: BenchChild <workload> key=value...");
        }
        Workload workload = BenchmarkSuite.workload(args[0]);
        workload.child(Options.parse(Arrays.asList(args).subList(1, args.length)));
        System.out.flush();
        System.exit(0);
    }
}

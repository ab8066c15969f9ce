package dev.fanout.bench;

/**
 * One workload of the suite. The suite calls {@link #run} in order and appends each returned section to
 * docs/benchmarks.md, so a new workload (fan-in against ElasticMQ, JVM cold start) is one more
 * implementation added to {@link BenchmarkSuite#workloads}.
 */
public interface Workload {

    /** Short id: names the child-JVM mode and the {@code --only} filter. */
    String id();

    /** Measures (in child JVMs where isolation matters) and renders the section of the report. */
    ReportSection run(SuiteContext context) throws Exception;

    /** The child-JVM side, for workloads that measure in child JVMs; prints result lines with {@link ResultLine#emit}. */
    default void child(Options options) throws Exception {
        throw new UnsupportedOperationException("workload '" + id() + "' runs no child JVM");
    }
}

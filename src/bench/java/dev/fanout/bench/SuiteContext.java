package dev.fanout.bench;

import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * What every workload gets from the suite.
 *
 * @param smoke       tiny sizes, for the smoke test: figures are meaningless, only their presence counts
 * @param repetitions how many times each figure is measured (the report shows median, min and max)
 * @param jvm         starts child JVMs with the suite's flags
 * @param workDir     scratch space (JMH logs)
 * @param log         progress lines
 */
public record SuiteContext(boolean smoke, int repetitions, ChildJvm jvm, Path workDir, Consumer<String> log) {
}

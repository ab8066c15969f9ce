package dev.fanout.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.fanout.bench.Strategies.Spec;

/**
 * Runs the whole suite at tiny sizes, child JVMs and the packaged function included (hence an integration
 * test, after the package phase), so that the benchmark code cannot rot. It
 * checks that every workload measured every strategy and that the report renders; it asserts nothing
 * about speed (the figures of a smoke run mean nothing).
 */
class BenchmarkSmokeIT {

    @Test
    void everyStrategyProducesFiguresAndTheReportRenders(@TempDir Path out) throws Exception {
        List<String> log = new CopyOnWriteArrayList<>();
        BenchmarkSuite.Result result = BenchmarkSuite.run(BenchmarkSuite.Config.smoke(out), log::add);

        assertThat(result.sections()).extracting(ReportSection::id)
                .containsExactly("io", "cpu", "overhead", "deadline", "fanin", "coldstart", "sqsbatch");
        assertThat(log).anyMatch(line -> line.startsWith("fanin rep 1 BATCH_CONCURRENT "))
                .anyMatch(line -> line.startsWith("fanin rep 1 MESSAGE_SEQUENTIAL "))
                .anyMatch(line -> line.startsWith("coldstart run 1 aot=true "))
                .anyMatch(line -> line.startsWith("sqsbatch run 1: "));
        for (Spec spec : Strategies.ALL) {
            // each workload logs one line per strategy and measurement
            assertThat(log).as("I/O sleep figures of %s", spec.id())
                    .anyMatch(line -> line.startsWith("io SLEEP rep 1 " + spec.id() + " "));
            assertThat(log).as("I/O HTTP figures of %s", spec.id())
                    .anyMatch(line -> line.startsWith("io HTTP rep 1 " + spec.id() + " "));
            assertThat(log).as("CPU figures of %s", spec.id())
                    .anyMatch(line -> line.startsWith("cpu rep 1 " + spec.id() + " "));
            assertThat(log).as("overhead figures of %s", spec.id())
                    .anyMatch(line -> line.startsWith("overhead " + spec.id() + " "));
            if (spec != Strategies.FANOUT) {
                assertThat(log).as("deadline figures of %s", spec.id())
                        .anyMatch(line -> line.startsWith("deadline " + spec.id() + " "));
            }
        }
        assertThat(log).anyMatch(line -> line.startsWith("deadline fanout grace "));

        String report = Files.readString(result.report());
        assertThat(result.report()).isEqualTo(out.resolve("benchmarks.md"));
        assertThat(report).contains("# Fanout benchmarks", "## Key figures", "## Machine", "## Assumptions",
                "## 1. I/O-bound fan-out", "## 2. CPU-bound fan-out", "## 3. Per-item overhead",
                "## 4. Deadline precision", "## 5. Fan-in to the results queue", "## 6. Cold start on the JVM",
                "## 7. The SQS function end to end", "![Efficiency per strategy, workload 1](benchmarks.png)");
        assertThat(report).doesNotContain("MISSING");
        for (Spec spec : Strategies.ALL) {
            assertThat(report).contains("| " + spec.label() + " |");
        }
        assertThat(report).doesNotContain("NaN", "Infinity");
        assertThat(ImageIO.read(out.resolve("benchmarks.png").toFile())).isNotNull()
                .satisfies(image -> assertThat(image.getWidth()).isPositive());
    }
}

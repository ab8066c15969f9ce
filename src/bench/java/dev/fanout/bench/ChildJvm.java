package dev.fanout.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Starts a workload's measurement in a fresh JVM: the same {@code java} and class path as this one, the
 * suite's JVM flags, {@link BenchChild} as main class. Isolation gives each strategy its own heap, its own
 * JIT state and its own peak RSS.
 */
public final class ChildJvm {

    /**
     * Not a tuning flag: the class path carries JBoss LogManager (Quarkus), which complains on stderr
     * when the JDK's HTTP client logs before the property is set, as the project's tests set it too.
     */
    private static final String LOG_MANAGER = "-Djava.util.logging.manager=org.jboss.logmanager.LogManager";

    private final List<String> flags;
    private final Consumer<String> log;

    public ChildJvm(List<String> flags, Consumer<String> log) {
        this.flags = List.copyOf(flags);
        this.log = log;
    }

    public List<String> flags() {
        return flags;
    }

    /** The {@code java} launcher of the running JVM. */
    public static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The result lines of one child run. */
    public record Output(List<ResultLine> lines) {

        /** Every result of {@code kind}, in the order printed. */
        public <T extends Record> List<T> all(String kind, Class<T> type) {
            return lines.stream().filter(l -> l.kind().equals(kind)).map(l -> l.as(type)).toList();
        }

        public <T extends Record> T one(String kind, Class<T> type) {
            List<T> all = all(kind, type);
            if (all.size() != 1) {
                throw new IllegalStateException("expected one '" + kind + "' result, got " + all.size());
            }
            return all.getFirst();
        }
    }

    /**
     * Runs {@code workload} with {@code options} in a child JVM and waits for it.
     *
     * @throws IllegalStateException if the child fails or outlives {@code timeout}
     */
    public Output run(String workload, Options options, Duration timeout) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(javaBinary());
        command.addAll(flags);
        command.add(LOG_MANAGER);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(BenchChild.class.getName());
        command.add(workload);
        command.addAll(options.toArgs());
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<ResultLine> lines = new ArrayList<>();
        Thread reader = Thread.ofVirtual().start(() -> readLines(process, lines));
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("child JVM " + workload + " " + options.values() + " ran longer than " + timeout);
        }
        reader.join();
        if (process.exitValue() != 0) {
            throw new IllegalStateException("child JVM " + workload + " " + options.values() + " exited with " + process.exitValue());
        }
        synchronized (lines) {
            return new Output(List.copyOf(lines));
        }
    }

    private void readLines(Process process, List<ResultLine> lines) {
        try (var in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.startsWith(ResultLine.PREFIX)) {
                    ResultLine result = ResultLine.read(line.substring(ResultLine.PREFIX.length()));
                    synchronized (lines) {
                        lines.add(result);
                    }
                } else {
                    log.accept("  [child] " + line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

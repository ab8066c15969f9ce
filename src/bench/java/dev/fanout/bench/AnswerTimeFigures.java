package dev.fanout.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.http.AnswerMeasure;
import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.batch.http.RequestBatch;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.ItemFunctions;

/**
 * The figure the HTTP entry point's default cut-off margin is derived from ({@code TimeBudget}): how long
 * assembling, writing and handing over (loopback) an answer of Lambda's limit takes
 * ({@code ResultsAnswer.measure}: the slowest of three, the first one cold), each in a fresh
 * JVM with the flags of Lambda's Java runtime, so that every measurement is as cold as a first invocation.
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) dev.fanout.bench.AnswerTimeFigures [jvms=5]
 * </pre>
 */
public final class AnswerTimeFigures {

    static String loadAverage() throws java.io.IOException {
        return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ")[0];
    }

    /** Sends {@code bytes} through a loopback TCP connection and reads them at the other end, as the runtime posts an answer. */
    static void sendThroughLoopback(byte[] bytes) throws IOException {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket sender = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                Socket receiver = server.accept()) {
            Thread reader = Thread.ofVirtual().start(() -> {
                try (InputStream in = receiver.getInputStream()) {
                    in.readNBytes(bytes.length);
                } catch (IOException ignored) {
                    // the sender's side reports a broken transfer
                }
            });
            try (OutputStream out = sender.getOutputStream()) {
                out.write(bytes);
            }
            reader.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            var mapper = new ObjectMapper();
            var batch = new RequestBatch(new WorkerPool(Limits.of(64)), TestFunctions.builder(mapper).build(), mapper,
                    new RequestBatch.Settings(Duration.ofSeconds(29), 1_000, HttpAnswer.LAMBDA_RESPONSE_LIMIT, 10_000),
                    Optional.empty());
            System.out.println(AnswerMeasure.measure(batch.results(), AnswerTimeFigures::sendThroughLoopback).toMillis());
            return;
        }
        int jvms = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < jvms; i++) {
            Process child = new ProcessBuilder(ChildJvm.javaBinary(), "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1",
                    "-XX:+UseSerialGC", "-Xmx1024m", "-cp", System.getProperty("java.class.path"),
                    AnswerTimeFigures.class.getName(), "--child").redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(child.getInputStream().readAllBytes()).trim();
            if (child.waitFor() != 0) {
                throw new IllegalStateException("the measuring JVM failed: " + out);
            }
            millis.add(Long.parseLong(out.lines().reduce((a, b) -> b).orElseThrow()));
            System.out.printf(Locale.ROOT, "JVM %d: slowest of 3 (first cold) %d ms%n", i + 1, millis.getLast());
        }
        List<Long> sorted = millis.stream().sorted().toList();
        System.out.printf(Locale.ROOT, "answer of %,d bytes, %d fresh JVMs: median %d ms, min %d, max %d; load average %s%n",
                HttpAnswer.LAMBDA_RESPONSE_LIMIT, jvms, sorted.get(jvms / 2), sorted.getFirst(), sorted.getLast(),
                loadAverage());
    }
}

package dev.fanout.function;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

/**
 * The HTTP entry point's cut-off margin, derived from the size of the largest answer rather than guessed:
 * cancel grace, plus {@value #FACTOR} times what it takes to assemble, write and hand over an answer of
 * Lambda's limit ({@link HttpBatchProcessor#measureAnswer()}). The factor covers what a measurement cannot:
 * a garbage collection at the wrong moment, a neighbour taking the CPU.
 * <p>
 * The time is a benchmark's figure ({@link #ANSWER_ON_ONE_VCPU}), not measured at start-up: measuring it
 * there (three 6 MB answers, the first one cold) added about 0.2 s and 60 MiB to every cold start of the
 * HTTP function. Lambda gives CPU in proportion to memory, one full vCPU at {@value #FULL_VCPU_MB} MB, so
 * below that the figure is scaled up by the missing share.
 */
final class AnswerTiming {

    static final int FACTOR = 3;

    /** Lambda's memory size with one full vCPU; less memory, proportionally less CPU. */
    static final int FULL_VCPU_MB = 1_769;

    /**
     * Assembling, writing and handing over (loopback) a 6,291,556-byte answer in a fresh JVM with Lambda's
     * flags, the slowest of three with the first one cold: 179 to 287 ms, median 233 ms, over 5 JVMs on one
     * core of the shared build machine at load average 4 (docs/http-api.md, {@code AnswerTimeFigures}); the
     * maximum, rounded up.
     */
    static final Duration ANSWER_ON_ONE_VCPU = Duration.ofMillis(300);

    private AnswerTiming() {
    }

    static Duration margin(Duration cancelGrace, Duration answer) {
        return cancelGrace.plus(answer.multipliedBy(FACTOR));
    }

    /** The margin for a function of {@code memoryMb}: the benchmark's answer time, scaled for less than one vCPU. */
    static Duration defaultMargin(Duration cancelGrace, int memoryMb) {
        if (memoryMb <= 0) {
            throw new IllegalArgumentException("memory size must be positive, got " + memoryMb + " MB");
        }
        long answerMillis = memoryMb >= FULL_VCPU_MB ? ANSWER_ON_ONE_VCPU.toMillis()
                : Math.ceilDiv(ANSWER_ON_ONE_VCPU.toMillis() * FULL_VCPU_MB, memoryMb);
        return margin(cancelGrace, Duration.ofMillis(answerMillis));
    }

    /** Sends {@code bytes} through a loopback TCP connection and reads them at the other end. */
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
}

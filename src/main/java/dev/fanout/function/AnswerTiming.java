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
 * cancel grace, plus {@value #FACTOR} times what this function takes, here and now, to assemble, write and
 * hand over an answer of Lambda's limit ({@link HttpBatchProcessor#measureAnswer()}, measured at start-up,
 * cold run included). The factor covers what a measurement cannot: a garbage collection at the wrong
 * moment, a neighbour taking the CPU.
 */
final class AnswerTiming {

    static final int FACTOR = 3;

    private AnswerTiming() {
    }

    static Duration margin(Duration cancelGrace, Duration measuredAnswer) {
        return cancelGrace.plus(measuredAnswer.multipliedBy(FACTOR));
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

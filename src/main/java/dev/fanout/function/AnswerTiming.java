package dev.fanout.function;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The HTTP entry point's cut-off margin, derived from the size of the largest answer rather than guessed:
 * the time this function takes, here and now, to write an answer of {@code maxResponseBytes} into memory
 * the way the runtime receives it, measured at start-up.
 */
final class AnswerTiming {

    /** Safety factor on the measured write: a cold invocation, a garbage collection, a busy neighbour. */
    static final int FACTOR = 4;
    /** Handing the written answer to the Runtime API (a local HTTP post). */
    static final Duration HANDOVER = Duration.ofMillis(50);
    private static final int RUNS = 3;

    private AnswerTiming() {
    }

    /** cancel grace + {@value #FACTOR} x the measured write of a {@code maxResponseBytes} answer + {@link #HANDOVER}. */
    static Duration margin(ObjectMapper mapper, Duration cancelGrace, int maxResponseBytes) {
        return cancelGrace.plus(measuredWrite(mapper, maxResponseBytes).multipliedBy(FACTOR)).plus(HANDOVER);
    }

    /** The slowest of the last {@value #RUNS} - 1 of {@value #RUNS} writes (the first one loads classes). */
    static Duration measuredWrite(ObjectMapper mapper, int bytes) {
        // an answer as the entry point builds it: 1,000 pieces, escaped once before
        List<byte[]> pieces = new ArrayList<>();
        int piece = Math.max(1, bytes / 1_000);
        for (int written = 0; written < bytes; written += piece) {
            pieces.add(EscapedJson.escape("x".repeat(Math.min(piece, bytes - written))));
        }
        long slowest = 0;
        for (int run = 0; run < RUNS; run++) {
            long start = System.nanoTime();
            HttpAnswer answer = HttpAnswer.of(mapper, 200, Map.of("Content-Type", "application/json"), pieces);
            var out = new ByteArrayOutputStream();
            try {
                answer.writeTo(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            long took = System.nanoTime() - start;
            if (run > 0 && out.size() > 0) {
                slowest = Math.max(slowest, took);
            }
        }
        return Duration.ofNanos(slowest);
    }
}

package dev.fanout.function;

import java.time.Duration;

/**
 * The HTTP entry point's cut-off margin, derived from the size of the largest answer rather than guessed:
 * cancel grace, plus twice the time this function takes, here and now, to assemble and write an answer of
 * Lambda's limit ({@link HttpBatchProcessor#measureAnswer()}, measured at start-up, cold run included),
 * plus the hand-over of the written answer to the Runtime API.
 */
final class AnswerTiming {

    /** Safety factor on the measured assembly and write: a garbage collection, a busy neighbour. */
    static final int FACTOR = 2;
    /** Handing the written answer to the Runtime API (a local HTTP post). */
    static final Duration HANDOVER = Duration.ofMillis(50);

    private AnswerTiming() {
    }

    static Duration margin(Duration cancelGrace, Duration measuredAnswer) {
        return cancelGrace.plus(measuredAnswer.multipliedBy(FACTOR)).plus(HANDOVER);
    }
}

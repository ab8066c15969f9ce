package dev.fanout.batch;

import dev.fanout.engine.Outcome;

/**
 * The minimal error result for a record whose result SQS refused: in {@link ResultRecord}'s shape, written by
 * {@link FallbackResult} (no reflection, SQS-valid), with only the record's id and a bounded reason, so that it stays
 * a few hundred bytes whatever the refused result held.
 */
final class RefusedResult {

    static final String ERROR_TYPE = "ResultRefused";
    /** Long enough for SQS's own error message, short enough that the result stays small. */
    static final int MAX_REASON_CHARS = 512;

    private RefusedResult() {
    }

    static String body(String recordId, String reason) {
        String message = "the results queue refused this record's result: " + reason;
        if (message.length() > MAX_REASON_CHARS) {
            int end = Character.isHighSurrogate(message.charAt(MAX_REASON_CHARS - 1)) ? MAX_REASON_CHARS - 1 : MAX_REASON_CHARS;
            message = message.substring(0, end) + "\u2026";
        }
        return FallbackResult.write(new ResultRecord(recordId, null, null, ResultRecord.status(Outcome.Status.FAILED),
                null, new ResultRecord.Error(ERROR_TYPE, message, false), null, null, null));
    }
}

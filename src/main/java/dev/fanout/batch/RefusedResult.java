package dev.fanout.batch;

import java.util.Map;
import java.util.Optional;

import dev.fanout.engine.Outcome;
import dev.fanout.fanin.ResultMessage;

/**
 * The minimal error result for a record whose result SQS refused: written by {@link FallbackResult}
 * (by hand, no reflection, SQS-valid), in {@link ResultRecord}'s shape, with only the record's id and a
 * bounded reason, so that it stays a few hundred bytes whatever the refused result held.
 */
public final class RefusedResult {

    static final String ERROR_TYPE = "ResultRefused";
    /** Long enough for SQS's own error message, short enough that the result stays small. */
    static final int MAX_REASON_CHARS = 512;

    private RefusedResult() {
    }

    /**
     * The stand-in of a result that carries nothing but its record's id: the minimal error result when SQS
     * refuses it, and no smaller form (over the limit, it is replaced by the minimal error result too).
     */
    public static ResultMessage.StandIn of(String recordId) {
        return new ResultMessage.StandIn() {
            @Override
            public Optional<ResultMessage.Replacement> refused(String reason) {
                return Optional.of(replacement(recordId, reason));
            }

            @Override
            public Optional<ResultMessage.Replacement> withinLimit(int size, int limit) {
                return Optional.empty();
            }
        };
    }

    /** The minimal error result's body, and its status attribute. */
    static ResultMessage.Replacement replacement(String recordId, String reason) {
        return new ResultMessage.Replacement(body(recordId, reason),
                Map.of(ResultMessages.STATUS_ATTRIBUTE, ResultRecord.status(Outcome.Status.FAILED)));
    }

    static String body(String recordId, String reason) {
        String message = "the results queue refused this record's result: " + reason;
        if (message.length() > MAX_REASON_CHARS) {
            int end = Character.isHighSurrogate(message.charAt(MAX_REASON_CHARS - 1)) ? MAX_REASON_CHARS - 1 : MAX_REASON_CHARS;
            message = message.substring(0, end) + "\u2026";
        }
        return new StringBuilder(160 + MAX_REASON_CHARS).append("{\"sourceMessageId\":")
                .append(FallbackResult.quote(recordId)).append(",\"status\":\"").append(ResultRecord.status(Outcome.Status.FAILED)).append("\",\"error\":")
                .append(FallbackResult.error(ERROR_TYPE, message, false)).append('}').toString();
    }
}

package dev.fanout.batch;

/**
 * The last resort for a result that cannot be written: the record as a small error result.
 * <p>
 * Jackson can refuse a {@link ResultRecord} (an output too deep, a serializer that throws, a type a native image has
 * no reflection data for). Writing the error result through Jackson could fail the same way; this one is written by
 * {@link ResultJson#withoutOutput}, which uses no reflection and no Jackson, so it cannot fail, in the same shape
 * and with the same escapes as every other result. Each string is cut at {@value #MAX_FIELD_CHARS} characters, so
 * that the result stays far below any message limit however long its input was.
 */
public final class FallbackResult {

    /** Longest string kept in a field; escaping makes a character at most six. */
    public static final int MAX_FIELD_CHARS = 16_384;

    private FallbackResult() {
    }

    /**
     * The record as a failed result with the given error, not retryable: its output is dropped, its identity
     * (source message, item, type, attempt, timing, queued batch) kept.
     */
    public static String of(ResultRecord record, String errorType, String message) {
        return write(record.withError(errorType, message));
    }

    /** {@code result} without its output, each string cut at {@value #MAX_FIELD_CHARS} characters. */
    static String write(ResultRecord r) {
        ResultRecord.Error e = r.error();
        return ResultJson.withoutOutput(new ResultRecord(cut(r.sourceMessageId()), cut(r.itemId()), cut(r.type()),
                cut(r.status()), null, e == null ? null : new ResultRecord.Error(cut(e.type()), cut(e.message()), e.retryable()),
                r.attempt(), cut(r.startedAt()), r.durationMs(), cut(r.batchId()), r.itemIndex()));
    }

    /** {@code text} cut at {@value #MAX_FIELD_CHARS} characters with an ellipsis, never between the halves of a pair. */
    static String cut(String text) {
        if (text == null || text.length() <= MAX_FIELD_CHARS) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(MAX_FIELD_CHARS - 1)) ? MAX_FIELD_CHARS - 1 : MAX_FIELD_CHARS;
        return text.substring(0, end) + '\u2026';
    }
}

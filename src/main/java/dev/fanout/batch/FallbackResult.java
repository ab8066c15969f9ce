package dev.fanout.batch;

import dev.fanout.engine.Outcome;

/**
 * The last resort for a result that cannot be written: a small error result in JSON, built by hand.
 * <p>
 * Jackson can refuse a {@link ResultRecord} (an output too deep, a serializer that throws, a type a
 * native image has no reflection data for). Writing the error result through the same writer could
 * fail the same way; this writer uses no reflection, no Jackson and no allocation beyond one
 * StringBuilder, so it cannot fail. Its text is valid JSON and a valid SQS message body: SQS allows only
 * #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF, so control characters and U+FFFE/U+FFFF are
 * escaped and a lone surrogate becomes U+FFFD. Each string is cut at {@value #MAX_FIELD_CHARS}
 * characters, so that the result stays far below any message limit however long its input was.
 */
public final class FallbackResult {

    /** Longest string kept in a field; escaping makes a character at most six. */
    public static final int MAX_FIELD_CHARS = 16_384;

    private FallbackResult() {
    }

    /**
     * The record as a failed result with the given error, in {@link ResultRecord}'s JSON shape: its
     * output is dropped, its identity (source message, item, type, attempt, timing) kept.
     */
    public static String of(ResultRecord record, String errorType, String message) {
        StringBuilder json = new StringBuilder(256);
        json.append('{');
        field(json, "sourceMessageId", record.sourceMessageId(), false);
        field(json, "itemId", record.itemId(), true);
        field(json, "type", record.type(), true);
        json.append(",\"status\":");
        string(json, ResultRecord.status(Outcome.Status.FAILED));
        json.append(",\"error\":");
        error(json, errorType, message, false);
        if (record.attempt() != null) {
            json.append(",\"attempt\":").append(record.attempt().intValue());
        }
        field(json, "startedAt", record.startedAt(), true);
        if (record.durationMs() != null) {
            json.append(",\"durationMs\":").append(record.durationMs().longValue());
        }
        return json.append('}').toString();
    }

    /** A bare error object: {@code {"type":...,"message":...,"retryable":...}}. */
    public static String error(String errorType, String message, boolean retryable) {
        StringBuilder json = new StringBuilder(64);
        error(json, errorType, message, retryable);
        return json.toString();
    }

    /** {@code text} as a JSON string literal, quotes included, valid in an SQS message body. */
    public static String quote(String text) {
        StringBuilder json = new StringBuilder(text == null ? 4 : text.length() + 2);
        string(json, text);
        return json.toString();
    }

    private static void error(StringBuilder json, String errorType, String message, boolean retryable) {
        json.append("{\"type\":");
        string(json, errorType);
        json.append(",\"message\":");
        string(json, message);
        json.append(",\"retryable\":").append(retryable).append('}');
    }

    /** A field, left out when its value is null (as ResultRecord's NON_NULL inclusion does). */
    private static void field(StringBuilder json, String name, String value, boolean comma) {
        if (value == null) {
            if (!comma) {
                json.append("\"").append(name).append("\":null");
            }
            return;
        }
        if (comma) {
            json.append(',');
        }
        json.append('"').append(name).append("\":");
        string(json, value);
    }

    private static void string(StringBuilder json, String text) {
        if (text == null) {
            json.append("null");
            return;
        }
        json.append('"');
        int end = Math.min(text.length(), MAX_FIELD_CHARS);
        if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--; // never cut a pair in two
        }
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                case '\b' -> json.append("\\b");
                case '\f' -> json.append("\\f");
                default -> {
                    if (c < 0x20 || c == 0xFFFE || c == 0xFFFF) {
                        json.append("\\u").append(HEX[c >> 12 & 0xF]).append(HEX[c >> 8 & 0xF])
                                .append(HEX[c >> 4 & 0xF]).append(HEX[c & 0xF]);
                    } else if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text.charAt(i + 1))) {
                        json.append(c).append(text.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        json.append('\uFFFD');
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        if (end < text.length()) {
            json.append('\u2026');
        }
        json.append('"');
    }

    private static final char[] HEX = "0123456789abcdef".toCharArray();
}

package dev.fanout.fanin;

import java.util.Optional;

/**
 * The minimal error result for a record whose result SQS refused: written by hand, without reflection
 * or a JSON library, in printable ASCII only (everything else escaped), with a bounded reason. It keeps
 * the shape of {@link ResultRecord}, so a consumer reads it like any other failed result.
 */
final class RefusedResult {

    static final String ERROR_TYPE = "ResultRefused";
    /** Long enough for SQS's own error message, short enough that the result stays a few hundred bytes. */
    static final int MAX_REASON_CHARS = 512;

    private RefusedResult() {
    }

    static String body(Optional<String> recordId, String reason) {
        var json = new StringBuilder(160 + MAX_REASON_CHARS);
        json.append('{');
        recordId.ifPresent(id -> string(json.append("\"sourceMessageId\":"), id, 256).append(','));
        json.append("\"status\":\"").append(ResultMessage.REFUSED_STATUS).append("\",\"error\":{\"type\":\"")
                .append(ERROR_TYPE).append("\",\"message\":");
        string(json, "the results queue refused this record's result: " + reason, MAX_REASON_CHARS);
        return json.append(",\"retryable\":false}}").toString();
    }

    /** A JSON string of at most {@code maxChars} source characters, every non-printable-ASCII one escaped. */
    private static StringBuilder string(StringBuilder json, String text, int maxChars) {
        json.append('"');
        int end = Math.min(text.length(), maxChars);
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                json.append('\\').append(c);
            } else if (c >= 0x20 && c < 0x7F) {
                json.append(c);
            } else {
                json.append(String.format("\\u%04x", (int) c));
            }
        }
        if (end < text.length()) {
            json.append("...");
        }
        return json.append('"');
    }
}

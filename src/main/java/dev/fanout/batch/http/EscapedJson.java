package dev.fanout.batch.http;

import dev.fanout.fanin.JsonText;

/**
 * JSON text as it appears inside a JSON string, in UTF-8: the form an API Gateway proxy response's
 * {@code body} takes in the bytes a Lambda function writes, escaped by {@link JsonText} as every result is. Escaping
 * works unit by unit, so the escaped form of a concatenation is the concatenation of the escaped forms: an answer is
 * assembled from pieces escaped once, and its size is the sum of theirs, exactly. Client text echoed in an answer is
 * capped here ({@link #cap}).
 */
public final class EscapedJson {

    /** Appended to text cut to fit its cap. */
    public static final String CUT_MARK = "... (cut)";

    private EscapedJson() {
    }

    /** JSON text as the content of the answer's body string, in UTF-8 ({@link JsonText#answerBytes}). */
    public static byte[] escape(CharSequence json) {
        return JsonText.answerBytes(json);
    }

    /** {@code text} as a JSON string literal, quotes included (the inner JSON, before {@link #escape}). */
    public static String quote(String text) {
        return JsonText.quote(text);
    }

    /** How many bytes {@code text}, quoted as a JSON string, takes inside the answer's body. */
    public static int answerSize(String text) {
        return escape(quote(text)).length;
    }

    /**
     * {@code text}, or its longest prefix with {@link #CUT_MARK} appended whose quoted form takes at most
     * {@code maxBytes} in the answer: client text echoed back (a type, a reason quoting it) can never
     * crowd out the other results.
     */
    public static String cap(String text, int maxBytes) {
        if (text == null || answerSize(text) <= maxBytes) {
            return text;
        }
        // each character takes at least one byte: no prefix longer than maxBytes can fit
        int low = 0;
        int high = Math.min(text.length(), maxBytes);
        while (low < high) {
            int mid = (low + high + 1) >>> 1;
            if (answerSize(prefix(text, mid) + CUT_MARK) <= maxBytes) {
                low = mid;
            } else {
                high = mid - 1;
            }
        }
        return prefix(text, low) + CUT_MARK;
    }

    /** The first {@code length} characters, one fewer if that would split a surrogate pair. */
    private static String prefix(String text, int length) {
        if (length > 0 && length < text.length() && Character.isHighSurrogate(text.charAt(length - 1))
                && Character.isLowSurrogate(text.charAt(length))) {
            length--;
        }
        return text.substring(0, length);
    }
}

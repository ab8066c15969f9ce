package dev.fanout.batch.http;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import com.fasterxml.jackson.core.io.JsonStringEncoder;

/**
 * JSON text as it appears inside a JSON string, in UTF-8: the form an API Gateway proxy response's
 * {@code body} takes in the bytes a Lambda function writes. Escaping works character by character, so the
 * escaped form of a concatenation is the concatenation of the escaped forms: an answer is assembled from
 * pieces escaped once, and its size is the sum of theirs, exactly.
 */
public final class EscapedJson {

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    /** Appended to text cut to fit its cap. */
    public static final String CUT_MARK = "... (cut)";

    private EscapedJson() {
    }

    /** {@code text} escaped as the content of a JSON string, in UTF-8 (a lone surrogate as {@code \\uXXXX}). */
    public static byte[] escape(CharSequence text) {
        int length = text.length();
        // most text needs no escape and no more than a byte a character: one pass, one array
        byte[] out = new byte[length + (length >> 3) + 16];
        int at = 0;
        for (int i = 0; i < length; i++) {
            if (out.length - at < 12) {
                out = Arrays.copyOf(out, out.length + (out.length >> 1) + 16);
            }
            char c = text.charAt(i);
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                out[at++] = (byte) c;
                continue;
            }
            switch (c) {
                case '"' -> {
                    out[at++] = '\\';
                    out[at++] = '"';
                }
                case '\\' -> {
                    out[at++] = '\\';
                    out[at++] = '\\';
                }
                case '\n' -> {
                    out[at++] = '\\';
                    out[at++] = 'n';
                }
                case '\r' -> {
                    out[at++] = '\\';
                    out[at++] = 'r';
                }
                case '\t' -> {
                    out[at++] = '\\';
                    out[at++] = 't';
                }
                default -> {
                    if (c < 0x20) {
                        at = unicodeEscape(out, at, c);
                    } else if (c < 0x800) {
                        out[at++] = (byte) (0xc0 | c >> 6);
                        out[at++] = (byte) (0x80 | c & 0x3f);
                    } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1))) {
                        int cp = Character.toCodePoint(c, text.charAt(++i));
                        out[at++] = (byte) (0xf0 | cp >> 18);
                        out[at++] = (byte) (0x80 | cp >> 12 & 0x3f);
                        out[at++] = (byte) (0x80 | cp >> 6 & 0x3f);
                        out[at++] = (byte) (0x80 | cp & 0x3f);
                    } else if (Character.isSurrogate(c)) {
                        at = unicodeEscape(out, at, c); // UTF-8 has no form for it; JSON's escape keeps it
                    } else {
                        out[at++] = (byte) (0xe0 | c >> 12);
                        out[at++] = (byte) (0x80 | c >> 6 & 0x3f);
                        out[at++] = (byte) (0x80 | c & 0x3f);
                    }
                }
            }
        }
        return at == out.length ? out : Arrays.copyOf(out, at);
    }

    private static int unicodeEscape(byte[] out, int at, char c) {
        out[at++] = '\\';
        out[at++] = 'u';
        out[at++] = HEX[c >> 12 & 0xf];
        out[at++] = HEX[c >> 8 & 0xf];
        out[at++] = HEX[c >> 4 & 0xf];
        out[at++] = HEX[c & 0xf];
        return at;
    }

    /** {@code text} as a JSON string literal, quotes included (the inner JSON, before {@link #escape}). */
    public static String quote(String text) {
        return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(text)) + '"';
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

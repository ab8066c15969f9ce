package dev.fanout.fanin;

import java.util.Arrays;

/**
 * The one text escaper: JSON text that SQS accepts, for the results queue's messages, the fallback results and the
 * HTTP answer alike, so that a text reads the same in each.
 * <p>
 * SQS accepts only #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF in a message body or attribute, and
 * refuses anything else ({@code InvalidMessageContents}); a result it refuses would keep its record from ever being
 * acknowledged. One rule for every UTF-16 unit SQS refuses (a control character, U+FFFE, U+FFFF, a surrogate that is
 * not half of a pair): it is written as the six ASCII characters {@code \}{@code uxxxx}, lower-case hex. Inside a JSON
 * string that is the JSON escape of the same unit, so a JSON reader gets the original text back, a lone surrogate
 * included. Inside a JSON string, {@code "} and {@code \} are escaped too, and the controls JSON has a short form for
 * take it ({@code \b \t \n \f \r}): the same forms Jackson writes with {@code WRITE_HEX_UPPER_CASE} off, so text this
 * class quotes and text Jackson writes agree character for character.
 * <p>
 * Three forms: {@link #quote} (a JSON string literal), {@link #sqsValid} (text with only the units SQS refuses
 * escaped: for JSON another writer made, and for attributes) and {@link #answerBytes} (JSON text as the content of a
 * JSON string, in UTF-8: the body of an API Gateway proxy response). Each works unit by unit, pairs kept whole, so
 * the form of a concatenation is the concatenation of the forms when no pair is split between the parts. Nothing here
 * allocates beyond its result or throws for any text.
 */
public final class JsonText {

    private static final char[] HEX = "0123456789abcdef".toCharArray();
    /** A unit's escape inside a JSON string, by unit below 0x80; null where it stands for itself. */
    private static final String[] ASCII_ESCAPES = new String[0x80];

    static {
        for (char c = 0; c < 0x20; c++) {
            ASCII_ESCAPES[c] = unicodeEscape(c);
        }
        ASCII_ESCAPES['\b'] = "\\b";
        ASCII_ESCAPES['\t'] = "\\t";
        ASCII_ESCAPES['\n'] = "\\n";
        ASCII_ESCAPES['\f'] = "\\f";
        ASCII_ESCAPES['\r'] = "\\r";
        ASCII_ESCAPES['"'] = "\\\"";
        ASCII_ESCAPES['\\'] = "\\\\";
    }

    private JsonText() {
    }

    /** Whether SQS accepts {@code text} as it is. */
    public static boolean isSqsValid(String text) {
        return firstRefused(text) < 0;
    }

    /**
     * {@code text} itself if SQS accepts it, else with each unit SQS refuses written {@code \}{@code uxxxx}. For JSON
     * text, which holds such units only inside its strings, that is the JSON escape of the same unit; applied twice it
     * changes nothing more.
     */
    public static String sqsValid(String text) {
        int bad = firstRefused(text);
        if (bad < 0) {
            return text;
        }
        var out = new StringBuilder(text.length() + 16).append(text, 0, bad);
        for (int i = bad; i < text.length(); i++) {
            char c = text.charAt(i);
            if (isPairAt(text, i)) {
                out.append(c).append(text.charAt(++i));
            } else if (refused(c)) {
                appendUnicodeEscape(out, c);
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** {@code text} as a JSON string literal, quotes included, that SQS accepts; {@code null} for null. */
    public static String quote(String text) {
        if (text == null) {
            return "null";
        }
        return appendQuoted(new StringBuilder(text.length() + 8), text).toString();
    }

    /** Appends {@link #quote}{@code (text)}. */
    public static StringBuilder appendQuoted(StringBuilder out, String text) {
        if (text == null) {
            return out.append("null");
        }
        out.append('"');
        int length = text.length();
        int plain = 0; // the start of the run of units that stand for themselves
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                String escape = ASCII_ESCAPES[c];
                if (escape != null) {
                    out.append(text, plain, i).append(escape);
                    plain = i + 1;
                }
            } else if (isPairAt(text, i)) {
                i++;
            } else if (refused(c)) {
                appendUnicodeEscape(out.append(text, plain, i), c);
                plain = i + 1;
            }
        }
        return out.append(text, plain, length).append('"');
    }

    /**
     * The UTF-8 bytes of {@code json} made {@link #sqsValid} and then escaped as the content of a JSON string: the form
     * JSON text takes as the {@code body} string of an API Gateway proxy response, in the bytes the function writes.
     * A unit SQS refuses therefore reads in the body exactly as it reads on the results queue.
     */
    public static byte[] answerBytes(CharSequence json) {
        int length = json.length();
        // most text needs no escape and no more than a byte a unit: one pass, one array
        byte[] out = new byte[length + (length >> 3) + 16];
        int at = 0;
        for (int i = 0; i < length; i++) {
            if (out.length - at < 12) {
                out = Arrays.copyOf(out, out.length + (out.length >> 1) + 16);
            }
            char c = json.charAt(i);
            if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                out[at++] = (byte) c;
            } else if (c < 0x80) {
                switch (c) {
                    case '"', '\\' -> {
                        out[at++] = '\\';
                        out[at++] = (byte) c;
                    }
                    case '\t', '\n', '\r' -> {
                        out[at++] = '\\';
                        out[at++] = (byte) ASCII_ESCAPES[c].charAt(1);
                    }
                    default -> at = escapedUnicodeEscape(out, at, c); // refused by SQS: escaped, then escaped again
                }
            } else if (c < 0x800) {
                out[at++] = (byte) (0xc0 | c >> 6);
                out[at++] = (byte) (0x80 | c & 0x3f);
            } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(json.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, json.charAt(++i));
                out[at++] = (byte) (0xf0 | cp >> 18);
                out[at++] = (byte) (0x80 | cp >> 12 & 0x3f);
                out[at++] = (byte) (0x80 | cp >> 6 & 0x3f);
                out[at++] = (byte) (0x80 | cp & 0x3f);
            } else if (refused(c)) {
                at = escapedUnicodeEscape(out, at, c);
            } else {
                out[at++] = (byte) (0xe0 | c >> 12);
                out[at++] = (byte) (0x80 | c >> 6 & 0x3f);
                out[at++] = (byte) (0x80 | c & 0x3f);
            }
        }
        return at == out.length ? out : Arrays.copyOf(out, at);
    }

    /** {@code \}{@code uxxxx} escaped once more: {@code \\}{@code uxxxx}, seven bytes. */
    private static int escapedUnicodeEscape(byte[] out, int at, char c) {
        out[at++] = '\\';
        out[at++] = '\\';
        out[at++] = 'u';
        out[at++] = (byte) HEX[c >> 12 & 0xf];
        out[at++] = (byte) HEX[c >> 8 & 0xf];
        out[at++] = (byte) HEX[c >> 4 & 0xf];
        out[at++] = (byte) HEX[c & 0xf];
        return at;
    }

    private static int firstRefused(String text) {
        int length = text.length();
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            if (c >= 0x20 && c < 0xD800) {
                continue; // most text: one comparison pair
            }
            if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++; // a code point from #x10000 up, allowed
            } else if (refused(c)) {
                return i;
            }
        }
        return -1;
    }

    /** Whether a high surrogate at {@code i} is followed by a low one. */
    private static boolean isPairAt(CharSequence text, int i) {
        return Character.isHighSurrogate(text.charAt(i)) && i + 1 < text.length()
                && Character.isLowSurrogate(text.charAt(i + 1));
    }

    /** Whether SQS refuses the unit {@code c} when it is not half of a pair. */
    private static boolean refused(char c) {
        return !(c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD));
    }

    private static void appendUnicodeEscape(StringBuilder out, char c) {
        out.append("\\u").append(HEX[c >> 12 & 0xf]).append(HEX[c >> 8 & 0xf]).append(HEX[c >> 4 & 0xf])
                .append(HEX[c & 0xf]);
    }

    private static String unicodeEscape(char c) {
        var out = new StringBuilder(6);
        appendUnicodeEscape(out, c);
        return out.toString();
    }
}

package dev.fanout.fanin;

/**
 * Text SQS accepts. A message body or attribute may hold only #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD
 * and #x10000-#x10FFFF; SQS refuses anything else (a lone UTF-16 surrogate, U+FFFE, a NUL) as
 * {@code InvalidMessageContents}, and a result it refuses would keep its record from ever being
 * acknowledged. Every other character is written as the six characters {@code \}{@code uXXXX}: inside a JSON
 * string that is the JSON escape of the same UTF-16 unit, so a reader gets the original text back.
 */
public final class SqsText {

    private SqsText() {
    }

    /** {@code text} unchanged if SQS accepts it, else with each character it refuses escaped. */
    public static String valid(String text) {
        int bad = firstRefused(text);
        if (bad < 0) {
            return text;
        }
        var out = new StringBuilder(text.length() + 16).append(text, 0, bad);
        for (int i = bad; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                out.append(c).append(text.charAt(++i));
            } else if (Character.isSurrogate(c) || !allowed(c)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Whether SQS accepts {@code text} as it is. */
    public static boolean isValid(String text) {
        return firstRefused(text) < 0;
    }

    private static int firstRefused(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++; // a pair: a code point from #x10000 up, allowed
            } else if (Character.isSurrogate(c) || !allowed(c)) {
                return i;
            }
        }
        return -1;
    }

    /** One UTF-16 unit outside the surrogate range. */
    private static boolean allowed(char c) {
        return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) || (c >= 0xE000 && c <= 0xFFFD);
    }
}

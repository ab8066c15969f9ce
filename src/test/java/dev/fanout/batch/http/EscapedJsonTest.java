package dev.fanout.batch.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The escaped UTF-8 form of text inside a JSON string, byte for byte, and the cap on echoed text. */
class EscapedJsonTest {

    private static String escaped(String text) {
        return new String(EscapedJson.escape(text), StandardCharsets.ISO_8859_1);
    }

    /** UTF-8 bytes shown one char per byte, to compare with {@link #escaped}. */
    private static String bytes(String utf8) {
        return new String(utf8.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    @Test
    void printableAsciiIsItself() {
        assertThat(escaped(" az~\u007f09")).isEqualTo(" az~\u007f09");
        assertThat(EscapedJson.escape("")).isEmpty();
    }

    @Test
    void quotesBackslashesAndTheCommonControlsGetTheirShortEscapes() {
        assertThat(escaped("a\"b\\c\nd\re\tf")).isEqualTo("a\\\"b\\\\c\\nd\\re\\tf");
    }

    @Test
    void otherControlsGetTheEscapeSqsTextGivesThemEscapedAgain() {
        // a raw control is not JSON, so it never comes from a writer; if it did, it reads as on the results queue
        assertThat(escaped("\u0000\u0001\b\f\u001a\u001f")).isEqualTo("\\\\u0000\\\\u0001\\\\u0008\\\\u000c\\\\u001a\\\\u001f");
    }

    @Test
    void nonAsciiIsUtf8AtEachLengthBoundary() {
        for (String text : new String[] { "\u0080", "\u00e9", "\u07ff", "\u0800", "\u20ac", "\ufffd", "\ud7ff",
                "\ue000", "\ud800\udc00", "\ud83d\ude80", "\udbff\udfff" }) {
            assertThat(escaped(text)).as("U+%04x", (int) text.charAt(0)).isEqualTo(bytes(text));
        }
        assertThat(EscapedJson.escape("\ud83d\ude80")).containsExactly(0xf0 - 256, 0x9f - 256, 0x9a - 256, 0x80 - 256);
        assertThat(EscapedJson.escape("\u20ac")).containsExactly(0xe2 - 256, 0x82 - 256, 0xac - 256);
        assertThat(EscapedJson.escape("\u00e9")).containsExactly(0xc3 - 256, 0xa9 - 256);
    }

    @Test
    void aLoneSurrogateOrANonCharacterKeepsItsJsonEscapeEscapedAgain() {
        // the JSON inside the body holds \\ud83d, as the same result on the results queue does
        assertThat(escaped("\ud83d")).isEqualTo("\\\\ud83d");
        assertThat(escaped("\ud83dx")).isEqualTo("\\\\ud83dx");
        assertThat(escaped("\ude80\ud83d")).isEqualTo("\\\\ude80\\\\ud83d");
        assertThat(escaped("a\udabc")).isEqualTo("a\\\\udabc");
        assertThat(escaped("\ud83d\ud83d\ude80")).isEqualTo("\\\\ud83d" + bytes("\ud83d\ude80"));
        assertThat(escaped("\ufffe\uffff")).isEqualTo("\\\\ufffe\\\\uffff");
    }

    @Test
    void longTextGrowsTheBufferWithoutLosingOrPaddingBytes() {
        String wide = "\u20ac".repeat(5_000) + "\ud83d\ude80".repeat(3_000);
        assertThat(escaped(wide)).isEqualTo(bytes(wide));
        assertThat(EscapedJson.escape(wide)).hasSize(5_000 * 3 + 3_000 * 4);
        assertThat(escaped("\u0001".repeat(4_000))).isEqualTo("\\\\u0001".repeat(4_000));
        assertThat(escaped("\"".repeat(3_000) + "x")).isEqualTo("\\\"".repeat(3_000) + "x");
        String ascii = "abcdefgh".repeat(1_000);
        assertThat(escaped(ascii)).isEqualTo(ascii);
    }

    @Test
    void theEscapeOfAConcatenationIsTheConcatenationOfTheEscapes() {
        String a = "x\"\ud83d";
        String b = "\ude80\u0007\u00e9";
        assertThat(escaped(a + b)).isEqualTo("x\\\"" + bytes("\ud83d\ude80") + "\\\\u0007" + bytes("\u00e9"));
        // a pair split between two pieces is two lone surrogates: the answer never splits one (pieces are whole tokens)
        assertThat(escaped(a) + escaped(b)).isEqualTo("x\\\"\\\\ud83d\\\\ude80\\\\u0007" + bytes("\u00e9"));
    }

    @Test
    void quoteWritesAJsonStringLiteral() {
        assertThat(EscapedJson.quote("a\"b\\\n")).isEqualTo("\"a\\\"b\\\\\\n\"");
        assertThat(EscapedJson.quote("")).isEqualTo("\"\"");
    }

    @Test
    void answerSizeCountsTheQuotedTextEscapedAgain() {
        assertThat(EscapedJson.answerSize("abc")).isEqualTo(2 + 3 + 2);
        // "\n" quoted is \n (2 chars), each escaped again: \\n (3 bytes)
        assertThat(EscapedJson.answerSize("\n")).isEqualTo(4 + 3);
        assertThat(EscapedJson.answerSize("\u00e9")).isEqualTo(4 + 2);
    }

    @Test
    void capKeepsTextThatFitsExactly() {
        String text = "abcdefghij";
        assertThat(EscapedJson.cap(text, 14)).isSameAs(text);
        assertThat(EscapedJson.cap(null, 0)).isNull();
    }

    @Test
    void capCutsToTheLongestPrefixThatFitsWithItsMark() {
        String text = "abcdefghijklmnopqrst";
        assertThat(EscapedJson.cap(text, 23)).isEqualTo("abcdefghij... (cut)");
        assertThat(EscapedJson.cap(text, 13)).isEqualTo("... (cut)");
        assertThat(EscapedJson.cap(text, 16)).isEqualTo("abc... (cut)");
        assertThat(EscapedJson.cap(text, 17)).isEqualTo("abcd... (cut)");
        assertThat(EscapedJson.answerSize(EscapedJson.cap(text, 17))).isEqualTo(17);
        String wide = "\u20ac".repeat(100);
        String cut = EscapedJson.cap(wide, 100);
        assertThat(cut).isEqualTo("\u20ac".repeat(29) + "... (cut)");
        assertThat(EscapedJson.answerSize(cut)).isEqualTo(29 * 3 + 13);
    }

    @Test
    void capNeverSplitsASurrogatePair() {
        String text = "ab\ud83d\ude80" + "c".repeat(20);
        assertThat(EscapedJson.cap(text, 18)).isEqualTo("ab... (cut)");
        assertThat(EscapedJson.cap(text, 19)).isEqualTo("ab\ud83d\ude80... (cut)");
    }
}

package dev.fanout.fanin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** What SQS accepts in a message body or attribute, how the rest is escaped, and JSON string literals by the same rule. */
class JsonTextTest {

    @ParameterizedTest
    @ValueSource(strings = {"", "plain", "\t\n\r", " ", "\uD7FF", "\uE000", "\uFFFD", "\uD83D\uDE00",
            "a pair \uD83D\uDE00 inside", "\uDBFF\uDFFF"})
    void textSqsAcceptsIsLeftAsItIs(String text) {
        assertThat(JsonText.isSqsValid(text)).isTrue();
        assertThat(JsonText.sqsValid(text)).isSameAs(text);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            // the first character refused, at index 0
            "'\u0000'|'\\u0000'",
            "'\u0000abc'|'\\u0000abc'",
            // the edges of what is allowed, each side
            "'a\u0008b'|'a\\u0008b'",
            "'a\u000Bb'|'a\\u000bb'",
            "'a\u001Fb'|'a\\u001fb'",
            "'a\uFFFEb'|'a\\ufffeb'",
            "'a\uFFFFb'|'a\\uffffb'",
            // lone surrogates: a high one at the end, a high one before a non-surrogate, a low one alone
            "'ab\uD83D'|'ab\\ud83d'",
            "'a\uD83Db'|'a\\ud83db'",
            "'a\uDE00b'|'a\\ude00b'",
            "'\uDE00\uD83D'|'\\ude00\\ud83d'",
    })
    void eachRefusedCharacterIsEscapedAndTheRestKept(String text, String expected) {
        assertThat(JsonText.isSqsValid(text)).isFalse();
        assertThat(JsonText.sqsValid(text)).isEqualTo(expected);
        assertThat(JsonText.isSqsValid(JsonText.sqsValid(text))).isTrue();
    }

    @Test
    void afterTheFirstRefusedCharacterPairsAreKeptAndLoneSurrogatesStillEscaped() {
        // the escaping loop starts at the first refused character: what follows it is checked the same way
        String text = "ok \u0000 \uD83D\uDE00 \uD83D \uDE00 \t\uFFFE end \uD83D";

        assertThat(JsonText.sqsValid(text)).isEqualTo("ok \\u0000 \uD83D\uDE00 \\ud83d \\ude00 \t\\ufffe end \\ud83d");
    }

    @Test
    void aPairRightAfterARefusedCharacterIsKeptWhole() {
        assertThat(JsonText.sqsValid("\u0001\uD83D\uDE00\u0001")).isEqualTo("\\u0001\uD83D\uDE00\\u0001");
    }

    @Test
    void quoteEscapesControlCharactersNonCharactersAndLoneSurrogatesAsAscii() {
        // was FallbackResultTest: a lone surrogate now keeps its JSON escape there too, no longer U+FFFD
        assertThat(JsonText.quote("a\u0000\u001f\uFFFE\uFFFF\"\\\n")).isEqualTo("\"a\\u0000\\u001f\\ufffe\\uffff\\\"\\\\\\n\"");
        assertThat(JsonText.quote("\uDFFF\uD800")).isEqualTo("\"\\udfff\\ud800\"");
        assertThat(JsonText.quote(null)).isEqualTo("null");
    }

    @Test
    void quoteUsesJsonsShortFormsAndLeavesTheRestAsItIs() {
        assertThat(JsonText.quote("\b\t\n\f\r/\u007f\u00e9\u2028\uD83D\uDE00\uFFFD"))
                .isEqualTo("\"\\b\\t\\n\\f\\r/\u007f\u00e9\u2028\uD83D\uDE00\uFFFD\"");
        assertThat(JsonText.appendQuoted(new StringBuilder("x"), "\uD83D\uD83D\uDE00")).hasToString("x\"\\ud83d\uD83D\uDE00\"");
    }

    @Test
    void quotesTheShortestTexts() {
        assertThat(JsonText.quote("")).isEqualTo("\"\"");
        assertThat(JsonText.quote("a")).isEqualTo("\"a\"");
        assertThat(JsonText.quote("\uD83D")).isEqualTo("\"\\ud83d\"");
    }

    @Test
    void theEdgesOfTheFastPathsAreCheckedToo() {
        // U+D800 is the first unit past the scan's common case; U+0080 the first past the escape table
        assertThat(JsonText.isSqsValid("\uD800")).isFalse();
        assertThat(JsonText.sqsValid("a\uD800")).isEqualTo("a\\ud800");
        assertThat(JsonText.isSqsValid("\u001f \uD7FF")).isFalse();
        assertThat(JsonText.quote("\u0080\u007f\u0020")).isEqualTo("\"\u0080\u007f \"");
        assertThat(JsonText.appendQuoted(new StringBuilder("x"), null)).hasToString("xnull");
    }

    /** The answer's form, one char per byte. */
    private static String escaped(String text) {
        return new String(JsonText.answerBytes(text), StandardCharsets.ISO_8859_1);
    }

    /** UTF-8 bytes shown one char per byte, to compare with {@link #escaped}. */
    private static String bytes(String utf8) {
        return new String(utf8.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
    }

    // answerBytes, byte for byte (these were EscapedJsonTest's)

    @Test
    void printableAsciiIsItself() {
        assertThat(escaped(" az~\u007f09")).isEqualTo(" az~\u007f09");
        assertThat(JsonText.answerBytes("")).isEmpty();
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
        assertThat(JsonText.answerBytes("\ud83d\ude80")).containsExactly(0xf0 - 256, 0x9f - 256, 0x9a - 256, 0x80 - 256);
        assertThat(JsonText.answerBytes("\u20ac")).containsExactly(0xe2 - 256, 0x82 - 256, 0xac - 256);
        assertThat(JsonText.answerBytes("\u00e9")).containsExactly(0xc3 - 256, 0xa9 - 256);
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
        assertThat(JsonText.answerBytes(wide)).hasSize(5_000 * 3 + 3_000 * 4);
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
}

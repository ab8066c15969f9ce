package dev.fanout.fanin;

import static org.assertj.core.api.Assertions.assertThat;

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
}

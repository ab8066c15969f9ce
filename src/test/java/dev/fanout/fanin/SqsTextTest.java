package dev.fanout.fanin;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** What SQS accepts in a message body or attribute, and how the rest is escaped. */
class SqsTextTest {

    @ParameterizedTest
    @ValueSource(strings = {"", "plain", "\t\n\r", " ", "\uD7FF", "\uE000", "\uFFFD", "\uD83D\uDE00",
            "a pair \uD83D\uDE00 inside", "\uDBFF\uDFFF"})
    void textSqsAcceptsIsLeftAsItIs(String text) {
        assertThat(SqsText.isValid(text)).isTrue();
        assertThat(SqsText.valid(text)).isSameAs(text);
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
        assertThat(SqsText.isValid(text)).isFalse();
        assertThat(SqsText.valid(text)).isEqualTo(expected);
        assertThat(SqsText.isValid(SqsText.valid(text))).isTrue();
    }

    @Test
    void afterTheFirstRefusedCharacterPairsAreKeptAndLoneSurrogatesStillEscaped() {
        // the escaping loop starts at the first refused character: what follows it is checked the same way
        String text = "ok \u0000 \uD83D\uDE00 \uD83D \uDE00 \t\uFFFE end \uD83D";

        assertThat(SqsText.valid(text)).isEqualTo("ok \\u0000 \uD83D\uDE00 \\ud83d \\ude00 \t\\ufffe end \\ud83d");
    }

    @Test
    void aPairRightAfterARefusedCharacterIsKeptWhole() {
        assertThat(SqsText.valid("\u0001\uD83D\uDE00\u0001")).isEqualTo("\\u0001\uD83D\uDE00\\u0001");
    }
}

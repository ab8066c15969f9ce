package dev.fanout.batch.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The size of echoed text in the answer, and its cap; the bytes themselves are JsonTextTest's (answerBytes). */
class EscapedJsonTest {

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

package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class FallbackResultTest {

    static final ObjectMapper MAPPER = new ObjectMapper();

    static ResultRecord record(String itemId) {
        return new ResultRecord("m-1", itemId, "digest", "succeeded", MAPPER.createObjectNode().put("x", 1), null, 3,
                "2026-11-30T05:00:00Z", 12L);
    }

    /** SQS: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF, and nothing else. */
    static boolean validForSqs(String text) {
        return text.codePoints().allMatch(c -> c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF)
                || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF));
    }

    @Test
    void keepsTheRecordsIdentityAndReplacesItsOutputWithTheError() throws Exception {
        String json = FallbackResult.of(record("item-7"), "OutputNotWritable", "too deep");

        assertThat(json).isEqualTo("{\"sourceMessageId\":\"m-1\",\"itemId\":\"item-7\",\"type\":\"digest\","
                + "\"status\":\"failed\",\"error\":{\"type\":\"OutputNotWritable\",\"message\":\"too deep\","
                + "\"retryable\":false},\"attempt\":3,\"startedAt\":\"2026-11-30T05:00:00Z\",\"durationMs\":12}");
        // the same shape Jackson writes for the record's own error result
        assertThat(json).isEqualTo(MAPPER.writeValueAsString(record("item-7").withError("OutputNotWritable", "too deep")));
    }

    @Test
    void leavesOutAbsentFieldsAsResultRecordDoes() throws Exception {
        var bare = new ResultRecord("m-2", null, null, "rejected", null, null, null, null, null);

        assertThat(FallbackResult.of(bare, "E", "m")).isEqualTo("{\"sourceMessageId\":\"m-2\",\"status\":\"failed\","
                + "\"error\":{\"type\":\"E\",\"message\":\"m\",\"retryable\":false}}");
        // a result without a source message id leaves it out, as Jackson does (it used to write "sourceMessageId":null)
        var noSource = new ResultRecord(null, "i", null, "succeeded", null, null, null, null, null);
        assertThat(FallbackResult.of(noSource, null, null)).isEqualTo("{\"itemId\":\"i\",\"status\":\"failed\","
                + "\"error\":{\"type\":null,\"message\":null,\"retryable\":false}}");
        assertThat(FallbackResult.of(noSource, null, null)).isEqualTo(MAPPER.writeValueAsString(noSource.withError(null, null)));
    }

    @Test
    void keepsTheQueuedBatchAResultBelongsTo() throws Exception {
        var queued = record("item-1").inBatch("b-1", 4);

        String json = FallbackResult.of(queued, "OutputNotWritable", "too deep");

        assertThat(json).endsWith(",\"batchId\":\"b-1\",\"itemIndex\":4}");
        assertThat(json).isEqualTo(MAPPER.writeValueAsString(queued.withError("OutputNotWritable", "too deep")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"quote \" backslash \\ slash /", "controls \u0000\u0001\u001f\b\f\n\r\t end",
            "non-characters \uFFFE \uFFFF", "lone high \uD800 x", "lone low \uDC00 x", "ends high \uD83D",
            "pair \uD83D\uDE00 ok", "unicode é ü \u2028 \u00A0"})
    void writesJsonThatParsesBackToTheTextAndThatSqsAccepts(String text) throws Exception {
        String json = FallbackResult.of(record(text), "OutputNotWritable", text);

        assertThat(validForSqs(json)).as(json).isTrue();
        JsonNode back = MAPPER.readTree(json);
        // every unit comes back, a lone surrogate too: it is written as its JSON escape, not replaced by U+FFFD
        assertThat(back.get("itemId").asText()).isEqualTo(text);
        assertThat(back.at("/error/message").asText()).isEqualTo(text);
    }

    @Test
    void keepsAFieldOfExactlyTheLimitWhole() throws Exception {
        String id = "i".repeat(FallbackResult.MAX_FIELD_CHARS);

        assertThat(MAPPER.readTree(FallbackResult.of(record(id), "E", "m")).get("itemId").asText()).isEqualTo(id);
    }

    @Test
    void cutsLongFieldsWithoutSplittingASurrogatePair() throws Exception {
        String longId = "a".repeat(FallbackResult.MAX_FIELD_CHARS - 1) + "\uD83D\uDE00" + "b".repeat(100);

        String json = FallbackResult.of(record(longId), "E", "\u0001".repeat(100_000));

        String itemId = MAPPER.readTree(json).get("itemId").asText();
        assertThat(itemId).isEqualTo("a".repeat(FallbackResult.MAX_FIELD_CHARS - 1) + "\u2026");
        assertThat(validForSqs(json)).isTrue();
        // six characters per escaped control character at most: far below a 1 MiB message
        assertThat(json.length()).isLessThan(2 * FallbackResult.MAX_FIELD_CHARS + 6 * FallbackResult.MAX_FIELD_CHARS + 300);
    }
}

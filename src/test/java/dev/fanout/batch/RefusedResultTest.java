package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The minimal error result that replaces a result SQS refused: small whatever the reason, and never half a character. */
class RefusedResultTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    static final String PREFIX = "the results queue refused this record's result: ";

    static String message(String reason) throws Exception {
        JsonNode body = MAPPER.readTree(RefusedResult.body("m-1", reason));
        assertThat(body.get("sourceMessageId").asText()).isEqualTo("m-1");
        assertThat(body.get("status").asText()).isEqualTo("failed");
        assertThat(body.at("/error/type").asText()).isEqualTo("ResultRefused");
        assertThat(body.at("/error/retryable").asBoolean(true)).isFalse();
        return body.at("/error/message").asText();
    }

    @Test
    void aShortReasonIsKeptWhole() throws Exception {
        assertThat(RefusedResult.body("m-1", "InvalidMessageContents no")).isEqualTo("{\"sourceMessageId\":\"m-1\","
                + "\"status\":\"failed\",\"error\":{\"type\":\"ResultRefused\",\"message\":\"" + PREFIX
                + "InvalidMessageContents no\",\"retryable\":false}}");
        String exactlyAtTheLimit = "x".repeat(RefusedResult.MAX_REASON_CHARS - PREFIX.length());
        assertThat(message(exactlyAtTheLimit)).isEqualTo(PREFIX + exactlyAtTheLimit);
    }

    @Test
    void aLongReasonIsCutAtTheLimitWithAnEllipsis() throws Exception {
        String reason = "y".repeat(RefusedResult.MAX_REASON_CHARS - PREFIX.length() + 1);
        assertThat(message(reason)).isEqualTo((PREFIX + reason).substring(0, RefusedResult.MAX_REASON_CHARS) + "\u2026");
    }

    @Test
    void aCutThatWouldSplitASurrogatePairFallsBeforeIt() throws Exception {
        // the pair's high half is the last character the limit would keep
        String reason = "z".repeat(RefusedResult.MAX_REASON_CHARS - PREFIX.length() - 1) + "\ud83d\ude80" + "z".repeat(20);
        assertThat(message(reason)).isEqualTo((PREFIX + reason).substring(0, RefusedResult.MAX_REASON_CHARS - 1) + "\u2026");
    }
}

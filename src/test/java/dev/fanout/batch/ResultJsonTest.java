package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.POJONode;

/** The one writer of the result shape; the property test over random text is ResultShapePropertyTest. */
class ResultJsonTest {

    private final ObjectMapper mapper = new ObjectMapper();
    private final ResultJson writer = new ResultJson(mapper);

    @Test
    void nonCharactersSqsRefusesAreEscapedInResultBodies() throws Exception {
        var record = new ResultRecord("m-1", "i", "echo", "succeeded",
                mapper.createObjectNode().put("text", "a\uFFFFb\uFFFEc 🚀"), null, 1, null, null);

        String body = writer.write(record);

        assertThat(body).contains("a\\uffffb\\ufffec 🚀").doesNotContain("\uFFFF", "\uFFFE");
        // the queue's form leaves the units SQS refuses to ResultMessage, which escapes them to the same text
        assertThat(writer.writeForMessage(record)).contains("\uFFFF").isNotEqualTo(body);
        assertThat(dev.fanout.fanin.JsonText.sqsValid(writer.writeForMessage(record))).isEqualTo(body);
        assertThat(mapper.readTree(body).at("/output/text").asText()).isEqualTo("a\uFFFFb\uFFFEc 🚀");
    }

    @Test
    void writesEveryFieldInTheRecordsOrderAsJacksonDoes() throws Exception {
        var record = new ResultRecord("m-1", "i-1", "echo", "succeeded", mapper.createObjectNode().put("x", "\u0001"),
                new ResultRecord.Error("E", "m", true), 2, "2026-12-07T16:00:00Z", 12L, "b-1", 3);

        assertThat(writer.write(record)).isEqualTo("{\"sourceMessageId\":\"m-1\",\"itemId\":\"i-1\",\"type\":\"echo\","
                + "\"status\":\"succeeded\",\"output\":{\"x\":\"\\u0001\"},\"error\":{\"type\":\"E\",\"message\":\"m\","
                + "\"retryable\":true},\"attempt\":2,\"startedAt\":\"2026-12-07T16:00:00Z\",\"durationMs\":12,"
                + "\"batchId\":\"b-1\",\"itemIndex\":3}");
        // Jackson with lower-case hex (the one rule's forms) writes the same text
        assertThat(writer.write(record)).isEqualTo(mapper.writer()
                .without(com.fasterxml.jackson.core.json.JsonWriteFeature.WRITE_HEX_UPPER_CASE).writeValueAsString(record));
    }

    @Test
    void aNullOutputIsWrittenAsJsonNullAndAnAbsentOneLeftOut() throws Exception {
        var withNull = new ResultRecord(null, "i", null, "succeeded", NullNode.getInstance(), null, null, null, null);
        var without = new ResultRecord(null, "i", null, "succeeded", null, null, null, null, null);

        assertThat(writer.write(withNull)).isEqualTo("{\"itemId\":\"i\",\"status\":\"succeeded\",\"output\":null}")
                .isEqualTo(mapper.writeValueAsString(withNull));
        assertThat(writer.write(without)).isEqualTo("{\"itemId\":\"i\",\"status\":\"succeeded\"}")
                .isEqualTo(ResultJson.withoutOutput(withNull));
    }

    @Test
    void theHeadTheOutputFieldTheOutputAndTheTailMakeTheWholeResult() throws Exception {
        var record = new ResultRecord(null, "i\uD83D", "echo", "succeeded", mapper.createObjectNode().put("k", "v"), null,
                null, "2026-12-07T16:00:00Z", 5L);

        assertThat(ResultJson.head(record) + ResultJson.outputField() + writer.output(record.output())
                + ResultJson.tail(record)).isEqualTo(writer.write(record));
        assertThat(ResultJson.head(record)).isEqualTo("{\"itemId\":\"i\\ud83d\",\"type\":\"echo\",\"status\":\"succeeded\"");
        assertThat(ResultJson.tail(record)).isEqualTo(",\"startedAt\":\"2026-12-07T16:00:00Z\",\"durationMs\":5}");
    }

    @Test
    void onlyTheOutputCanFailAndWithoutItTheResultIsStillWritten() {
        var unwritable = new ResultRecord("m-1", "i", "echo", "succeeded", new POJONode(new Object() {
            @Override
            public String toString() {
                return "no properties";
            }
        }), null, null, null, null);

        assertThatThrownBy(() -> writer.write(unwritable)).isInstanceOf(JsonProcessingException.class);
        assertThat(ResultJson.withoutOutput(unwritable)).isEqualTo("{\"sourceMessageId\":\"m-1\",\"itemId\":\"i\","
                + "\"type\":\"echo\",\"status\":\"succeeded\"}");
    }
}

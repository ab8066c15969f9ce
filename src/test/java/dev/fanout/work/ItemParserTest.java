package dev.fanout.work;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.databind.ObjectMapper;

class ItemParserTest {

    final ItemParser parser = new ItemParser(new ObjectMapper(), Optional.empty());

    @Test
    void aFullItem() {
        ParsedItem parsed = parser.parse("{\"id\":\"o-1\",\"type\":\"http\",\"group\":\"c-7\",\"payload\":{\"url\":\"https://x\"}}",
                "msg-1", Optional.empty());
        WorkItem item = ((ParsedItem.Valid) parsed).item();
        assertThat(item.id()).isEqualTo("o-1");
        assertThat(item.type()).isEqualTo("http");
        assertThat(item.group()).contains("c-7");
        assertThat(item.payload().get("url").asText()).isEqualTo("https://x");
    }

    @Test
    void idFallsBackToTheRecordAndTheSourceGroupWins() {
        ParsedItem parsed = parser.parse("{\"type\":\"digest\",\"group\":\"json-group\"}", "msg-2", Optional.of("fifo-group"));
        WorkItem item = ((ParsedItem.Valid) parsed).item();
        assertThat(item.id()).isEqualTo("msg-2");
        assertThat(item.group()).contains("fifo-group");
        assertThat(item.payload().isNull()).isTrue();
    }

    @Test
    void theDefaultTypeAppliesToItemsWithoutOne() {
        var withDefault = new ItemParser(new ObjectMapper(), Optional.of("http"));
        assertThat(((ParsedItem.Valid) withDefault.parse("{\"payload\":{}}", "m", Optional.empty())).item().type())
                .isEqualTo("http");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''                             | body is empty",
            "'   '                          | body is empty",
            "[1,2]                          | item must be a JSON object, was an array",
            "'\"text\"'                     | item must be a JSON object, was a string",
            "42                             | item must be a JSON object, was a number",
            "null                           | item must be a JSON object, was null",
            "'{\"type\":\"x\",\"paylod\":1}'| unknown field 'paylod' (an item has id, type, group and payload)",
            "'{\"type\":7}'                 | field 'type' must be a non-empty string",
            "'{\"type\":\"\"}'              | field 'type' must be a non-empty string",
            "'{\"payload\":{}}'             | field 'type' is missing and no default type is configured",
            "'{\"type\":\"x\",\"id\":5}'    | field 'id' must be a non-empty string",
            "'{\"type\":\"x\",\"group\":[]}'| field 'group' must be 1 to 128 letters, digits or punctuation (an SQS MessageGroupId)",
            "'{\"type\":\"x\",\"group\":\"a b\"}'| field 'group' must be 1 to 128 letters, digits or punctuation (an SQS MessageGroupId)",
    })
    void malformedItemsAreRejectedWithTheirReason(String body, String reason) {
        ParsedItem parsed = parser.parse(body, "msg-3", Optional.empty());
        assertThat(parsed).isInstanceOfSatisfying(ParsedItem.Malformed.class, m -> {
            assertThat(m.reason()).isEqualTo(reason);
            assertThat(m.id()).isEqualTo("msg-3");
        });
    }

    @Test
    void invalidJsonSaysWhereItBroke() {
        var parsed = (ParsedItem.Malformed) parser.parse("{\"type\": \"x\",,}", "m", Optional.of("g"));
        assertThat(parsed.reason()).startsWith("body is not valid JSON: Unexpected character (','")
                .endsWith("at line 1, column 14");
        assertThat(parsed.group()).contains("g");
    }
}

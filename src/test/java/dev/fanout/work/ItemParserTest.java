package dev.fanout.work;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.BinaryNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.POJONode;

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
        assertThat(parsed.reason()).startsWith("item is not valid JSON: Unexpected character (','")
                .endsWith("at line 1, column 14");
        assertThat(parsed.group()).contains("g");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "'{\"type\":\"x\",\"type\":\"y\"}'                      | item is not valid JSON: Duplicate field 'type' at line 1, column 19",
            "'{\"type\":\"x\",\"payload\":{\"a\":{\"b\":1,\"b\":1}}}'   | item is not valid JSON: Duplicate field 'b' at line 1, column 38",
            "'{\"type\":\"x\"} {\"type\":\"y\"}'                     | item goes on after its JSON value, at line 1, column 14",
            "'{\"type\":\"x\"} // note'                             | item is not valid JSON: Unexpected character ('/' (code 47)): maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser) at line 1, column 14",
            "'{\"type\":\"x\"}  \n '                              | ",
    })
    void theTextIsReadStrictly(String body, String reason) {
        ParsedItem parsed = parser.parse(body, "m", Optional.empty());
        if (reason == null) {
            assertThat(parsed).isInstanceOf(ParsedItem.Valid.class);
        } else {
            assertThat(parsed).isEqualTo(new ParsedItem.Malformed("m", Optional.empty(), reason));
        }
    }

    @Test
    void aNullBodyIsEmpty() {
        assertThat(parser.parse(null, "msg-4", Optional.of("g")))
                .isEqualTo(new ParsedItem.Malformed("msg-4", Optional.of("g"), "body is empty"));
    }

    @Test
    void jsonBeyondTheReadersLimitsIsMalformedWithTheLimitNamed() {
        // nesting past Jackson's limit is a read constraint, not a syntax error: it has no line and column
        String deep = "[".repeat(1001) + "]".repeat(1001);
        var parsed = (ParsedItem.Malformed) parser.parse(deep, "m", Optional.empty());
        assertThat(parsed.reason()).startsWith("item is not valid JSON: Document nesting depth (1001) exceeds")
                .doesNotContain(" at line ");
        assertThat(parsed.id()).isEqualTo("m");
    }

    @Test
    void anElementThatIsNoJsonValueSaysWhatItWas() {
        assertThat(((ParsedItem.Malformed) parser.read(null, "m", Optional.empty())).reason())
                .isEqualTo("item must be a JSON object, was nothing");
        assertThat(((ParsedItem.Malformed) parser.read(MissingNode.getInstance(), "m", Optional.empty())).reason())
                .isEqualTo("item must be a JSON object, was nothing");
        assertThat(((ParsedItem.Malformed) parser.read(JsonNodeFactory.instance.booleanNode(true), "m",
                Optional.empty())).reason()).isEqualTo("item must be a JSON object, was a boolean");
        assertThat(((ParsedItem.Malformed) parser.read(new BinaryNode(new byte[] {1}), "m", Optional.empty())).reason())
                .isEqualTo("item must be a JSON object, was binary");
        assertThat(((ParsedItem.Malformed) parser.read(new POJONode(new Object()), "m", Optional.empty())).reason())
                .isEqualTo("item must be a JSON object, was pojo");
    }

    @Test
    void explicitNullsMeanTheFallbacks() {
        var withDefault = new ItemParser(new ObjectMapper(), Optional.of("digest"));
        WorkItem item = ((ParsedItem.Valid) withDefault.parse("{\"id\":null,\"type\":null,\"group\":null,\"payload\":null}",
                "msg-5", Optional.empty())).item();
        assertThat(item).isEqualTo(new WorkItem("msg-5", "digest", Optional.empty(),
                NullNode.getInstance()));
    }

    @Test
    void aBlankIdIsMalformed() {
        assertThat(parser.parse("{\"type\":\"x\",\"id\":\"  \"}", "msg-6", Optional.empty()))
                .isEqualTo(new ParsedItem.Malformed("msg-6", Optional.empty(), "field 'id' must be a non-empty string"));
    }

    @Test
    void aMalformedItemKeepsTheIdAndGroupReadBeforeTheFault() {
        // a bad group: the item's own id is known, the group is the source's
        assertThat(parser.parse("{\"id\":\"o-9\",\"type\":\"x\",\"group\":\"\"}", "msg-7", Optional.of("src")))
                .isEqualTo(new ParsedItem.Malformed("o-9", Optional.of("src"),
                        "field 'group' must be 1 to 128 letters, digits or punctuation (an SQS MessageGroupId)"));
        // a bad or missing type: id and group are both the item's
        assertThat(parser.parse("{\"id\":\"o-9\",\"group\":\"g-1\",\"type\":\" \"}", "msg-7", Optional.empty()))
                .isEqualTo(new ParsedItem.Malformed("o-9", Optional.of("g-1"), "field 'type' must be a non-empty string"));
        assertThat(parser.parse("{\"id\":\"o-9\",\"group\":\"g-1\"}", "msg-7", Optional.empty()))
                .isEqualTo(new ParsedItem.Malformed("o-9", Optional.of("g-1"),
                        "field 'type' is missing and no default type is configured"));
    }

    @Test
    void aGroupIdIsOneTo128PrintableAsciiCharactersWithoutSpace() {
        assertThat(ItemParser.isGroupId("!")).isTrue();
        assertThat(ItemParser.isGroupId("~")).isTrue();
        assertThat(ItemParser.isGroupId("a".repeat(128))).isTrue();
        assertThat(ItemParser.isGroupId("a".repeat(129))).isFalse();
        assertThat(ItemParser.isGroupId("")).isFalse();
        assertThat(ItemParser.isGroupId("a b")).isFalse();
        assertThat(ItemParser.isGroupId("a\u007f")).isFalse();
        assertThat(ItemParser.isGroupId("caf\u00e9")).isFalse();
    }
}

package dev.fanout.batch.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.POJONode;

import dev.fanout.batch.FallbackResult;
import dev.fanout.batch.ResultMessages;
import dev.fanout.batch.ResultRecord;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.RunSummary;
import dev.fanout.fanin.JsonText;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkItem;

/**
 * One result, every path: over thousands of random texts (lone surrogates, reversed pairs, control characters,
 * U+FFFE/U+FFFF, astral characters, quotes and backslashes, long strings), the results-queue message, the fallback
 * result, the refused result and the HTTP answer's element write the same bytes for the same result, and the same as
 * Jackson writes the record (made SQS-valid); each is valid JSON that reads back to every original UTF-16 unit, lone
 * surrogates included; each holds only what SQS accepts; and the HTTP answer is valid UTF-8 of exactly its counted size.
 * Seeded: a failure names its case and seed.
 */
class ResultShapePropertyTest {

    private static final long SEED = 0x5EED_2112L;
    private static final int CASES = 3_000;
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /** An independent writer of the shape: Jackson's own, with JSON's lower-case hex. */
    private static final ObjectWriter JACKSON = MAPPER.writer().without(JsonWriteFeature.WRITE_HEX_UPPER_CASE);
    private static final Outcome.Timing TIMING = new Outcome.Timing(Instant.parse("2026-12-07T16:00:00Z"),
            Duration.ofMillis(7));

    private final ResultMessages messages = new ResultMessages(MAPPER);
    private final ResultsAnswer answers = new ResultsAnswer(MAPPER, 1_000, HttpAnswer.LAMBDA_RESPONSE_LIMIT);

    /** One UTF-16 unit or pair from a class chosen at random, weighted to the troublesome ones. */
    private static void appendOne(StringBuilder text, Random random) {
        switch (random.nextInt(12)) {
            case 0 -> text.append((char) random.nextInt(0x20)); // a control character
            case 1 -> text.append((char) (0xD800 + random.nextInt(0x400))); // a high surrogate, maybe left alone
            case 2 -> text.append((char) (0xDC00 + random.nextInt(0x400))); // a low surrogate, maybe left alone
            case 3 -> text.appendCodePoint(0x10000 + random.nextInt(0x100000)); // an astral character, a pair
            case 4 -> text.append(random.nextBoolean() ? '\uFFFE' : '\uFFFF');
            case 5 -> text.append("\"\\/\u007f\u2028\u2029\uFFFD".charAt(random.nextInt(7)));
            case 6 -> text.append((char) (0x80 + random.nextInt(0x780))); // two UTF-8 bytes
            case 7 -> text.append((char) (0x800 + random.nextInt(0xD000))); // three UTF-8 bytes, below the surrogates
            case 8 -> text.append((char) (0xE000 + random.nextInt(0x1FFE))); // three UTF-8 bytes, above them
            default -> text.append((char) (0x20 + random.nextInt(0x5F))); // printable ASCII
        }
    }

    private static String text(Random random, int maxLength) {
        int length = switch (random.nextInt(20)) {
            case 0 -> 0;
            case 1 -> 1_000 + random.nextInt(Math.max(1, maxLength - 1_000)); // long
            default -> random.nextInt(40);
        };
        var text = new StringBuilder(length + 2);
        while (text.length() < length) {
            appendOne(text, random);
        }
        return text.toString();
    }

    @Test
    void everyPathWritesTheSameValidSqsJsonForTheSameResult() throws Exception {
        var random = new Random(SEED);
        for (int n = 0; n < CASES; n++) {
            String id = text(random, 3_000);
            String type = text(random, 150);
            String outputText = text(random, n % 100 == 0 ? 70_000 : 5_000);
            String outputKey = text(random, 30);
            String message = text(random, 5_000);
            String context = "case " + n + " of seed " + SEED;

            ObjectNode output = MAPPER.createObjectNode().put("text", outputText).put(outputKey, outputKey.length());
            ParsedItem item = new ParsedItem.Valid(new WorkItem(id, type, Optional.empty(), MAPPER.createObjectNode()));
            Outcome<JsonNode> outcome = random.nextBoolean() ? new Outcome.Succeeded<>(output, TIMING)
                    : new Outcome.Failed<>(new IllegalStateException(message), random.nextBoolean(), TIMING);
            ResultRecord result = ResultRecord.of(null, item, outcome, null);

            // the results queue's message, made valid once more by the sink's own message
            String queued = messages.message(result, null, Optional.empty()).body();
            assertThat(queued).as(context).isEqualTo(JsonText.sqsValid(JACKSON.writeValueAsString(result)));
            checkJson(queued, result, context);

            // the HTTP answer's element, for the result it carries (its type and error text capped for the answer)
            String element = answerElement(item, outcome, context);
            ResultRecord answered = capped(result);
            assertThat(element).as(context).isEqualTo(messages.message(answered, null, Optional.empty()).body());
            checkJson(element, answered, context);

            // the fallback result, for a record whose output Jackson cannot write
            ResultRecord withSource = new ResultRecord(id, id, type, result.status(), output, null, 1,
                    TIMING.startedAt().toString(), 7L).inBatch(type, n);
            String fallback = FallbackResult.of(withSource, "OutputNotWritable", message);
            ResultRecord failed = withSource.withError("OutputNotWritable", message);
            if (id.length() <= FallbackResult.MAX_FIELD_CHARS && message.length() <= FallbackResult.MAX_FIELD_CHARS) {
                assertThat(fallback).as(context).isEqualTo(JsonText.sqsValid(JACKSON.writeValueAsString(failed)))
                        .isEqualTo(messages.message(failed, null, Optional.empty()).body());
                checkJson(fallback, failed, context);
            }
            ResultRecord unwritable = new ResultRecord(id, id, type, "succeeded", new POJONode(new Object()), null, 1,
                    null, null);
            String written = messages.message(unwritable, null, Optional.empty()).body();
            assertThat(written).as(context).isEqualTo(FallbackResult.of(unwritable, "OutputNotWritable",
                    MAPPER.readTree(written).at("/error/message").asText()));

            // the refused result, which names only its record
            String reason = text(random, 400);
            String refused = ResultMessages.substitution(id).refused(reason).orElseThrow().body();
            JsonNode refusedBack = MAPPER.readTree(refused);
            assertThat(refused).as(context).isEqualTo(JsonText.sqsValid(JACKSON.writeValueAsString(
                    new ResultRecord(id, null, null, "failed", null, new ResultRecord.Error("ResultRefused",
                            refusedBack.at("/error/message").asText(), false), null, null, null))));
            assertThat(refusedBack.get("sourceMessageId").asText()).as(context).isEqualTo(id);
            assertThat(JsonText.isSqsValid(refused)).as(context).isTrue();
        }
    }

    @Test
    void textQuotedByHandEqualsTextJacksonWritesMadeSqsValid() throws Exception {
        var random = new Random(SEED + 1);
        for (int n = 0; n < CASES; n++) {
            String text = text(random, 5_000);
            String quoted = JsonText.quote(text);
            assertThat(quoted).as("case %d", n).isEqualTo(JsonText.sqsValid(JACKSON.writeValueAsString(text)));
            assertThat(MAPPER.readTree(quoted).asText()).as("case %d", n).isEqualTo(text);
            // the answer's form is the JSON escape of the same text, whether or not it was made valid first
            assertThat(JsonText.answerBytes(quoted)).as("case %d", n)
                    .isEqualTo(JsonText.answerBytes(JACKSON.writeValueAsString(text)));
            // and a reader of the answer gets the text back: the body string first, then the JSON inside it
            String body = MAPPER.readTree("\"" + utf8(JsonText.answerBytes(quoted)) + "\"").asText();
            assertThat(MAPPER.readTree(body).asText()).as("case %d", n).isEqualTo(text);
        }
    }

    /** The one result of a one-item HTTP answer, as the JSON text inside its body. */
    private String answerElement(ParsedItem item, Outcome<JsonNode> outcome, String context) throws Exception {
        Outcome<ResultsAnswer.PreparedOutput> prepared = switch (outcome) {
            case Outcome.Succeeded<JsonNode> succeeded -> new Outcome.Succeeded<>(
                    answers.preparing(c -> succeeded.value()).handle(null), succeeded.time());
            case Outcome.Failed<JsonNode> failed -> new Outcome.Failed<>(failed.error(), failed.retryable(),
                    TIMING);
            default -> throw new AssertionError(outcome);
        };
        boolean ok = prepared instanceof Outcome.Succeeded;
        var run = new BatchResult<>(List.of(prepared), new RunSummary(1, ok ? 1 : 0, ok ? 0 : 1, 0, 0, 0, 1,
                Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ZERO, 0));
        HttpAnswer answer = answers.assemble(List.of(item), run, MAPPER.createObjectNode(), Set.of());
        byte[] bytes = answer.bytes();
        assertThat(answer.size()).as(context).isEqualTo(bytes.length);
        String envelope = utf8(bytes);
        assertThat(JsonText.isSqsValid(envelope)).as(context).isTrue();
        String body = MAPPER.readTree(envelope).get("body").asText();
        assertThat(body).as(context).startsWith("{\"results\":[");
        String element = body.substring("{\"results\":[".length(), body.lastIndexOf("],\"summary\":"));
        // the element's bytes in the answer are the escape of the element's text, exactly
        assertThat(new String(EscapedJson.escape(element), StandardCharsets.UTF_8)).as(context)
                .isEqualTo(envelope.substring(envelope.indexOf("{\\\"results\\\":[") + "{\\\"results\\\":[".length(),
                        envelope.lastIndexOf("],\\\"summary\\\":")));
        return element;
    }

    /** What the HTTP answer carries of a result: its type and error's type and message capped. */
    private static ResultRecord capped(ResultRecord r) {
        ResultRecord.Error e = r.error();
        return new ResultRecord(r.sourceMessageId(), r.itemId(), EscapedJson.cap(r.type(), ResultsAnswer.MAX_TYPE_BYTES),
                r.status(), r.output(), e == null ? null : new ResultRecord.Error(
                        EscapedJson.cap(e.type(), ResultsAnswer.MAX_TYPE_BYTES),
                        EscapedJson.cap(e.message(), ResultsAnswer.MAX_MESSAGE_BYTES), e.retryable()),
                r.attempt(), r.startedAt(), r.durationMs(), r.batchId(), r.itemIndex());
    }

    /** Valid JSON, one value, only what SQS accepts, and every field read back to the record's own units. */
    private static void checkJson(String json, ResultRecord expected, String context) throws Exception {
        assertThat(sqsAccepts(json)).as(context).isTrue();
        JsonNode back = MAPPER.readTree(json);
        // the values Jackson's own writer gives, raw units and all (its text is not SQS-valid, its values are the record's)
        assertThat(back).as(context).isEqualTo(MAPPER.readTree(MAPPER.writeValueAsString(expected)));
        assertThat(back.get("itemId").asText()).as(context).isEqualTo(expected.itemId());
        if (expected.type() != null) {
            assertThat(back.get("type").asText()).as(context).isEqualTo(expected.type());
        }
        if (expected.error() != null) {
            assertThat(back.at("/error/message").asText()).as(context).isEqualTo(expected.error().message());
        }
        if (expected.output() != null) {
            assertThat(back.get("output")).as(context).isEqualTo(expected.output());
        }
    }

    /** SQS: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF, and nothing else; independent of JsonText. */
    private static boolean sqsAccepts(String text) {
        return text.codePoints().allMatch(c -> c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF)
                || (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF));
    }

    /** Strict UTF-8: malformed bytes fail. */
    private static String utf8(byte[] bytes) throws CharacterCodingException {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    }
}

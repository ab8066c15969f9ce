package dev.fanout.batch.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

/** The proxy response's bytes: the envelope around body pieces escaped once, and its size known up front. */
class HttpAnswerTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void theEnvelopeWrapsTheBodyPiecesInOrder() throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        headers.put("Allow", "POST");
        HttpAnswer answer = HttpAnswer.of(MAPPER, 207, headers, List.of(EscapedJson.escape("{\"a\":"),
                EscapedJson.escape("\"\u00e9\""), EscapedJson.escape("}")));

        String expected = "{\"statusCode\":207,\"headers\":{\"Content-Type\":\"application/json\",\"Allow\":\"POST\"},"
                + "\"body\":\"{\\\"a\\\":\\\"\u00e9\\\"}\",\"isBase64Encoded\":false}";
        byte[] bytes = expected.getBytes(StandardCharsets.UTF_8);
        assertThat(answer.bytes()).isEqualTo(bytes);
        assertThat(answer.size()).isEqualTo(bytes.length);
        assertThat(answer.status()).isEqualTo(207);
        var out = new ByteArrayOutputStream();
        answer.writeTo(out);
        assertThat(out.toByteArray()).isEqualTo(bytes);
        assertThat(MAPPER.readTree(bytes).get("body").asText()).isEqualTo("{\"a\":\"\u00e9\"}");
    }

    @Test
    void theEnvelopesSizeIsEverythingButTheBody() {
        Map<String, String> headers = Map.of("Content-Type", "application/json");
        int envelope = HttpAnswer.envelopeSize(MAPPER, 200, headers);
        assertThat(envelope).isEqualTo(("{\"statusCode\":200,\"headers\":{\"Content-Type\":\"application/json\"},"
                + "\"body\":\"\",\"isBase64Encoded\":false}").length());
        assertThat(HttpAnswer.of(MAPPER, 200, headers, List.of()).size()).isEqualTo(envelope);
        assertThat(HttpAnswer.of(MAPPER, 200, headers, List.of(new byte[10], new byte[5])).size())
                .isEqualTo(envelope + 15);
    }
}

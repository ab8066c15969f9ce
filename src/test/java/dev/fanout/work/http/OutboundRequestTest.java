package dev.fanout.work.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.hc.core5.util.Timeout;
import org.junit.jupiter.api.Test;

/** One attempt's request: its body in the charset its Content-Type names, its every wait bounded. */
class OutboundRequestTest {

    static OutboundRequest hop(Map<String, String> headers, String body) {
        return new OutboundRequest("POST", URI.create("http://api.example/x"), new LinkedHashMap<>(headers), body, null);
    }

    @Test
    void theBodyIsEncodedInTheCharsetOfTheContentTypeHeaderWhateverItsCase() throws Exception {
        var headers = new LinkedHashMap<String, String>();
        headers.put("X-Other", "text/plain; charset=UTF-16");
        headers.put("content-TYPE", "text/plain; charset=ISO-8859-1");

        var request = hop(headers, "é").toRequest(Duration.ofSeconds(3));

        assertThat(request.getEntity().getContent().readAllBytes()).containsExactly(0xE9);
        assertThat(request.getEntity().getContentType()).isNull(); // the item's own header goes out as given
        assertThat(request.getFirstHeader("content-TYPE").getValue()).isEqualTo("text/plain; charset=ISO-8859-1");
    }

    @Test
    void withoutAContentTypeTheBodyIsUtf8TextAndWithAnUnknownCharsetItStaysUtf8() throws Exception {
        var plain = hop(Map.of("X-Other", "v"), "é").toRequest(Duration.ofSeconds(3));
        assertThat(plain.getEntity().getContent().readAllBytes()).containsExactly(0xC3, 0xA9);
        assertThat(plain.getEntity().getContentType()).isEqualTo("text/plain; charset=UTF-8");

        var unknown = hop(Map.of("Content-Type", "text/plain; charset=x-unknown"), "é").toRequest(Duration.ofSeconds(3));
        assertThat(unknown.getEntity().getContent().readAllBytes()).containsExactly(0xC3, 0xA9);
    }

    @Test
    void aRequestWithoutABodyHasNoEntity() {
        assertThat(hop(Map.of(), null).toRequest(Duration.ofSeconds(3)).getEntity()).isNull();
    }

    @Test
    void waitingForAPooledConnectionAndForTheResponseAreBothBoundedByTheAttemptsLimit() {
        var config = hop(Map.of(), null).toRequest(Duration.ofMillis(1234)).getConfig();

        assertThat(config.getConnectionRequestTimeout()).isEqualTo(Timeout.ofMilliseconds(1234));
        assertThat(config.getResponseTimeout()).isEqualTo(Timeout.ofMilliseconds(1234));
    }
}

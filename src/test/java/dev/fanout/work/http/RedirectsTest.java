package dev.fanout.work.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.fanout.engine.NonRetryableException;

/** Which redirects an item follows, and what each hop keeps of the request before it. */
class RedirectsTest {

    static Response redirect(int status, String location) {
        return new Response(status, Map.of(), location, null, null, new byte[0], false);
    }

    static OutboundRequest hop(String method, String uri, Map<String, String> headers, String body) {
        return new OutboundRequest(method, URI.create(uri), new LinkedHashMap<>(headers), body, null);
    }

    static final Map<String, String> HEADERS = Map.of("Authorization", "Bearer t", "Cookie", "c=1",
            "Proxy-Authorization", "Basic p", "Content-Type", "application/json", "X-Trace", "abc");

    @ParameterizedTest
    @ValueSource(ints = {301, 302, 303, 307, 308})
    void aRedirectStatusWithALocationIsFollowed(int status) {
        assertThat(new Redirects(1).follows(redirect(status, "/next"))).isTrue();
    }

    @ParameterizedTest
    @ValueSource(ints = {200, 300, 304, 305, 306, 309, 404})
    void anyOtherStatusIsTheResult(int status) {
        assertThat(new Redirects(1).follows(redirect(status, "/next"))).isFalse();
    }

    @Test
    void aRedirectWithoutALocationOrWithRedirectsOffIsTheResult() {
        assertThat(new Redirects(1).follows(redirect(302, null))).isFalse();
        assertThat(new Redirects(0).follows(redirect(302, "/next"))).isFalse();
    }

    @ParameterizedTest
    @CsvSource({
            // status, method, method after, body kept
            "303, POST, GET, false",
            "303, PUT, GET, false",
            "303, GET, GET, false",
            "303, HEAD, HEAD, true",
            "301, POST, GET, false",
            "302, POST, GET, false",
            "301, PUT, PUT, true",
            "302, DELETE, DELETE, true",
            "307, POST, POST, true",
            "308, POST, POST, true",
    })
    void theMethodAndBodyFollowTheStatus(int status, String method, String after, boolean bodyKept) {
        OutboundRequest next = new Redirects(5).next(hop(method, "http://api.example/a", HEADERS, "{}"), redirect(status, "/b"));

        assertThat(next.method()).isEqualTo(after);
        assertThat(next.uri()).isEqualTo(URI.create("http://api.example/b"));
        assertThat(next.from()).isEqualTo(URI.create("http://api.example/a"));
        assertThat(next.body()).isEqualTo(bodyKept ? "{}" : null);
        // only a request that lost its body loses its Content-Type; everything else stays on the same origin
        Map<String, String> expected = new LinkedHashMap<>(HEADERS);
        if (!bodyKept) {
            expected.remove("Content-Type");
        }
        assertThat(next.headers()).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({
            "http://api.example/a, http://api.example:80/b",
            "http://api.example:80/a, http://API.example/b",
            "https://api.example/a, https://api.example:443/b",
            "https://api.example:8443/a, HTTPS://api.example:8443/b",
    })
    void theSameOriginKeepsTheCredentials(String from, String to) {
        OutboundRequest next = new Redirects(5).next(hop("GET", from, HEADERS, null), redirect(307, to));

        assertThat(next.headers()).isEqualTo(HEADERS);
    }

    @ParameterizedTest
    @CsvSource({
            "http://api.example/a, https://api.example/b",
            "https://api.example/a, http://api.example:443/b",
            "https://api.example/a, https://api.example:80/b",
            "http://api.example/a, http://api.example:8080/b",
            "http://api.example:8080/a, http://api.example/b",
            "http://api.example/a, http://other.example/b",
            // an explicit port 0 is a port of its own, not the scheme's default
            "http://api.example:0/a, http://api.example/b",
    })
    void anotherOriginLosesTheCredentialsAndKeepsTheRest(String from, String to) {
        OutboundRequest next = new Redirects(5).next(hop("GET", from, HEADERS, null), redirect(307, to));

        assertThat(next.headers()).containsOnlyKeys("Content-Type", "X-Trace");
    }

    @Test
    void theHopsCountForTheWholeItemAndOneMoreThanAllowedFails() {
        var redirects = new Redirects(2);
        OutboundRequest first = hop("GET", "http://api.example/0", Map.of(), null);
        OutboundRequest second = redirects.next(first, redirect(302, "/1"));
        OutboundRequest third = redirects.next(second, redirect(302, "/2"));

        assertThat(third.uri()).isEqualTo(URI.create("http://api.example/2"));
        assertThatThrownBy(() -> redirects.next(third, redirect(302, "/3")))
                .isInstanceOf(NonRetryableException.class).hasMessageEndingWith(": more than 2 redirects");
    }

    @Test
    void aRelativeLocationResolvesAgainstAHopWithoutAPath() {
        OutboundRequest next = new Redirects(1).next(hop("GET", "http://api.example", Map.of(), null), redirect(301, "next"));

        assertThat(next.uri()).isEqualTo(URI.create("http://api.example/next"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "http://exa mple/|invalid Location header: Illegal character in authority at index 10",
            "ftp://api.example/file|the redirect target",
            "file:///etc/passwd|the redirect target",
    })
    void aLocationThatIsNoHttpUrlFailsForGood(String location, String problem) {
        var redirects = new Redirects(5);
        assertThatThrownBy(() -> redirects.next(hop("GET", "http://api.example/a", Map.of(), null),
                redirect(302, location))).isInstanceOf(NonRetryableException.class).hasMessageContaining(problem);
    }
}

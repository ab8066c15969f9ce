package dev.fanout.work.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThatNoException;

import java.net.URI;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** An item's request, checked before anything is sent: each rule at its edges. */
class RequestChecksTest {

    @ParameterizedTest
    @ValueSource(strings = {"a", "z", "A", "Z", "0", "9", "X-Trace-Id", "!#$%&'*+-.^_`|~", "Accept"})
    void aTokenIsAValidHeaderName(String name) {
        assertThat(RequestChecks.isToken(name)).isTrue();
    }

    @ParameterizedTest
    // each character just outside the ranges of letters and digits, separators, space, a control character
    @ValueSource(strings = {"", "@", "[", "{", "/", ":", "X Trace", "a\u0000", "\u00e9", "(", ")", ",", ";", "=", "?",
            "\"", "\\", "]", "}", "<", ">"})
    void anythingElseIsNot(String name) {
        assertThat(RequestChecks.isToken(name)).isFalse();
    }

    @Test
    void noNameIsNoToken() {
        assertThat(RequestChecks.isToken(null)).isFalse();
    }

    @Test
    void theTimeoutIsBetweenTheShortestAttemptAndLambdasLongest() {
        assertThatNoException().isThrownBy(() -> RequestChecks.timeoutMillis(null));
        assertThatNoException().isThrownBy(() -> RequestChecks.timeoutMillis(RequestChecks.MIN_SEND_MILLIS));
        assertThatNoException().isThrownBy(() -> RequestChecks.timeoutMillis(RequestChecks.MAX_TIMEOUT_MILLIS));
        for (long refused : new long[] {RequestChecks.MIN_SEND_MILLIS - 1, RequestChecks.MAX_TIMEOUT_MILLIS + 1, 0, -1}) {
            assertThatThrownBy(() -> RequestChecks.timeoutMillis(refused)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("field 'timeoutMillis' must be between 5 and 900000 (an attempt with less than 5 ms is "
                            + "never sent), was " + refused);
        }
    }

    @Test
    void headersAreCheckedAndCopiedInTheirOrder() {
        Map<String, String> given = new LinkedHashMap<>();
        given.put("X-B", "tab\tis fine");
        given.put("X-A", "");
        Map<String, String> checked = RequestChecks.headers(given);

        given.put("X-C", "added afterwards");

        assertThat(checked).containsExactly(Map.entry("X-B", "tab\tis fine"), Map.entry("X-A", ""));
        assertThatThrownBy(() -> checked.put("X-D", "d")).isInstanceOf(UnsupportedOperationException.class);
        assertThat(RequestChecks.headers(null)).isEmpty();
    }

    @Test
    void aHeaderThatIsNoTokenManagedByTheClientWithoutAValueOrWithControlCharactersIsRefused() {
        assertThatThrownBy(() -> RequestChecks.headers(Map.of("X Bad", "v")))
                .hasMessage("field 'headers' has an invalid header name \"X Bad\"");
        assertThatThrownBy(() -> RequestChecks.headers(Map.of("Content-LENGTH", "1")))
                .hasMessage("field 'headers' must not set Content-LENGTH: the client sets it");
        Map<String, String> noValue = new HashMap<>();
        noValue.put("X-Null", null);
        assertThatThrownBy(() -> RequestChecks.headers(noValue)).hasMessage("field 'headers.X-Null' must be a string");
        for (String value : new String[] {"a\rb", "a\nb", "a\u0000b", "a\u001fb", "a\u007fb"}) {
            assertThatThrownBy(() -> RequestChecks.headers(Map.of("X-Ctl", value)))
                    .hasMessage("field 'headers.X-Ctl' must not contain control characters such as CR or LF");
        }
        assertThat(RequestChecks.headers(Map.of("X-Edge", " ~\u0080"))).containsEntry("X-Edge", " ~\u0080");
    }

    @Test
    void aTargetMustBeAnAbsoluteHttpUrlWithAHostAndNoUserInfo() {
        assertThat(RequestChecks.targetProblem(URI.create("https://api.example/x"))).isNull();
        assertThat(RequestChecks.targetProblem(URI.create("HTTP://api.example/x"))).isNull();
        assertThat(RequestChecks.targetProblem(URI.create("/relative"))).isEqualTo("must be an absolute URL, was '/relative'");
        assertThat(RequestChecks.targetProblem(URI.create("ftp://api.example/x"))).isEqualTo("must use http or https, was ftp");
        assertThat(RequestChecks.targetProblem(URI.create("http:///x"))).isEqualTo("must name a host");
        assertThat(RequestChecks.targetProblem(URI.create("http://user:pw@api.example/x")))
                .isEqualTo("must not contain user info (send an Authorization header instead)");
    }
}

package dev.fanout.work.http;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import dev.fanout.engine.RejectedItemException;

/**
 * What an item's request must be, checked when its payload is read: a malformed payload rejects the item
 * ({@link RejectedItemException}, through the {@link IllegalArgumentException}s thrown here) with the
 * reason, before anything is sent.
 * <ul>
 * <li>a method of {@link #METHODS} (GET if none);</li>
 * <li>an absolute http or https URL with a host, without user info (send an {@code Authorization} header)
 * and without an ambiguous numeric host (see {@link SsrfGuard#ambiguousNumericHost});</li>
 * <li>headers with token names and values without control characters, none that the client sets from the
 * request itself ({@code Host}, {@code Content-Length}, ...);</li>
 * <li>a {@code timeoutMillis} between {@value #MIN_SEND_MILLIS} ms (an attempt with less is never sent)
 * and Lambda's 15 minutes.</li>
 * </ul>
 * A redirect target is held to the same URL rules ({@link #targetProblem}).
 */
final class RequestChecks {

    static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    /** An attempt with less time than this is not sent. */
    static final long MIN_SEND_MILLIS = 5;
    /** Lambda's longest timeout: no attempt can use more. */
    static final long MAX_TIMEOUT_MILLIS = 900_000;

    /** Headers the client sets from the request itself; an item may not forge them. */
    private static final Set<String> MANAGED_HEADERS = Set.of(
            "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade");
    private static final String TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

    private RequestChecks() {
    }

    /** The method in upper case, GET if none. */
    static String method(String given) {
        String method = given == null ? "GET" : given.toUpperCase(Locale.ROOT);
        if (!METHODS.contains(method)) {
            throw new IllegalArgumentException("field 'method' must be one of " + String.join(", ", METHODS)
                    + ", was " + MessageText.printable(given));
        }
        return method;
    }

    static void url(String url) {
        if (url == null || url.isBlank()) {
            throw new IllegalArgumentException("field 'url' is required");
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(
                    "field 'url' is not a valid URL: " + e.getReason() + " at index " + e.getIndex());
        }
        String ambiguous = SsrfGuard.ambiguousNumericAuthority(uri.getRawAuthority());
        if (ambiguous != null) {
            throw new IllegalArgumentException("field 'url': " + ambiguous);
        }
        String problem = targetProblem(uri);
        if (problem != null) {
            throw new IllegalArgumentException("field 'url' " + problem);
        }
    }

    static void timeoutMillis(Long timeoutMillis) {
        if (timeoutMillis != null && (timeoutMillis < MIN_SEND_MILLIS || timeoutMillis > MAX_TIMEOUT_MILLIS)) {
            throw new IllegalArgumentException("field 'timeoutMillis' must be between " + MIN_SEND_MILLIS + " and "
                    + MAX_TIMEOUT_MILLIS + " (an attempt with less than " + MIN_SEND_MILLIS
                    + " ms is never sent), was " + timeoutMillis);
        }
    }

    /** What makes {@code uri} unusable as a request target, or null. */
    static String targetProblem(URI uri) {
        if (!uri.isAbsolute()) {
            return "must be an absolute URL, was '" + MessageText.printable(uri.toString()) + "'";
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return "must use http or https, was " + MessageText.printable(uri.getScheme());
        }
        if (uri.getHost() == null) {
            return "must name a host";
        }
        if (uri.getRawUserInfo() != null) {
            return "must not contain user info (send an Authorization header instead)";
        }
        return null;
    }

    /** The headers, checked, as an unmodifiable copy in their order. */
    static Map<String, String> headers(Map<String, String> headers) {
        if (headers == null) {
            return Map.of();
        }
        Map<String, String> copy = new LinkedHashMap<>();
        headers.forEach((name, value) -> {
            if (!isToken(name)) {
                throw new IllegalArgumentException(
                        "field 'headers' has an invalid header name \"" + MessageText.printable(name) + "\"");
            }
            if (MANAGED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("field 'headers' must not set " + name + ": the client sets it");
            }
            if (value == null) {
                throw new IllegalArgumentException("field 'headers." + name + "' must be a string");
            }
            if (value.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
                throw new IllegalArgumentException(
                        "field 'headers." + name + "' must not contain control characters such as CR or LF");
            }
            copy.put(name, value);
        });
        return Collections.unmodifiableMap(copy);
    }

    /** Whether {@code name} is an HTTP token (RFC 9110): a valid header name. */
    static boolean isToken(String name) {
        if (name == null || name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean alphaNum = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
            if (!alphaNum && TOKEN_SYMBOLS.indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }
}

package dev.fanout.work.http;

import java.util.Map;

/**
 * A response, read: the chosen headers, those the handler acts on, and the body up to its cap.
 *
 * @param headers the response headers named in {@link HttpSettings#responseHeaders()}, by lower-case name
 */
record Response(int status, Map<String, String> headers, String location, String retryAfter,
        String contentType, byte[] body, boolean truncated) {
}

package dev.fanout.work.http;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The settings of one {@code http} function; their defaults are {@code FanoutConfig}'s ({@code fanout.http.*}).
 *
 * @param connectTimeout  time limit of a TCP connect (an attempt's own time limit caps it too)
 * @param defaultTimeout  time limit of one attempt when the item names none ({@code timeoutMillis})
 * @param maxBodyBytes    response body bytes kept; the rest is dropped unread and {@code truncated} is
 *                        set. At most {@value #MAX_BODY_BYTES_LIMIT}: results travel in SQS messages of
 *                        at most 1 MiB, and a body grows in JSON (by 4/3 as base64, by at most 3 as text)
 * @param maxAttempts     attempts per item in all, the first included ({@code 1}: no retry in the handler)
 * @param maxRedirects    redirect hops followed per item; {@code 0} returns the 3xx response itself
 * @param responseHeaders the response headers copied to the output, by name (case-insensitive; the output
 *                        uses the lower-case names)
 * @param allow           what the SSRF guard lets through although it is not public: exact host names
 *                        ({@code internal.example}), addresses ({@code 127.0.0.1}) and CIDR ranges
 *                        ({@code 10.1.0.0/16}, {@code ::1/128})
 * @param ssrfGuard       {@code false} turns the SSRF guard off; only for a trusted, local set-up
 * @param maxConnections  pooled connections in all and per route; set it to the concurrency limit, so
 *                        that every running item can hold one
 * @param holdAfterFailures failures of a service in a row (a 503 without {@code Retry-After}, a refused
 *                        connection) after which its items are held instead of sent ({@link ServiceHolds});
 *                        {@code 0}: a service is held only when it asks ({@code Retry-After})
 */
public record HttpSettings(
        Duration connectTimeout,
        Duration defaultTimeout,
        int maxBodyBytes,
        int maxAttempts,
        int maxRedirects,
        List<String> responseHeaders,
        List<String> allow,
        boolean ssrfGuard,
        int maxConnections,
        int holdAfterFailures) {

    public static final int MAX_BODY_BYTES_LIMIT = 262_144;
    public static final int MAX_ATTEMPTS_LIMIT = 10;
    public static final int MAX_REDIRECTS_LIMIT = 20;

    public HttpSettings {
        positive(connectTimeout, "connectTimeout");
        positive(defaultTimeout, "defaultTimeout");
        if (maxBodyBytes < 0 || maxBodyBytes > MAX_BODY_BYTES_LIMIT) {
            throw new IllegalArgumentException(
                    "maxBodyBytes must be between 0 and " + MAX_BODY_BYTES_LIMIT + ", was " + maxBodyBytes);
        }
        if (maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS_LIMIT) {
            throw new IllegalArgumentException(
                    "maxAttempts must be between 1 and " + MAX_ATTEMPTS_LIMIT + ", was " + maxAttempts);
        }
        if (maxRedirects < 0 || maxRedirects > MAX_REDIRECTS_LIMIT) {
            throw new IllegalArgumentException(
                    "maxRedirects must be between 0 and " + MAX_REDIRECTS_LIMIT + ", was " + maxRedirects);
        }
        if (holdAfterFailures < 0) {
            throw new IllegalArgumentException("holdAfterFailures must not be negative, was " + holdAfterFailures);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("maxConnections must be at least 1, was " + maxConnections);
        }
        responseHeaders = headerNames(responseHeaders);
        allow = List.copyOf(Objects.requireNonNull(allow, "allow"));
        AllowList.parse(allow); // fail at start-up, not on the first item
    }

    private static void positive(Duration value, String name) {
        Objects.requireNonNull(value, name);
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, was " + value);
        }
    }

    private static List<String> headerNames(List<String> names) {
        Objects.requireNonNull(names, "responseHeaders");
        List<String> lower = new ArrayList<>(names.size());
        for (String name : names) {
            if (name == null || !RequestChecks.isToken(name)) {
                throw new IllegalArgumentException("responseHeaders has an invalid header name: " + name);
            }
            String key = name.toLowerCase(Locale.ROOT);
            if (!lower.contains(key)) {
                lower.add(key);
            }
        }
        return List.copyOf(lower);
    }
}

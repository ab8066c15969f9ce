package dev.fanout.work.http;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;

import dev.fanout.engine.Backoff;
import dev.fanout.engine.NonRetryableException;

/**
 * Which responses fail an item, and whether and when it tries again.
 * <ul>
 * <li>Retryable ({@link HttpCallException}): HTTP 429 and 5xx, connection and DNS failures, timeouts.</li>
 * <li>Permanent ({@link NonRetryableException}): any other 4xx (and, elsewhere, a refusal by the
 * {@link SsrfGuard}, more redirects than allowed, a redirect to a URL that is not http(s)).</li>
 * </ul>
 * A retryable failure is retried inside the item, up to {@link HttpSettings#maxAttempts()} attempts in all,
 * and only while the deadline leaves room for the wait plus {@value #MIN_RETRY_MILLIS} ms for another
 * attempt. The wait is the {@code Retry-After} of a 429 or 503 (seconds or HTTP-date); without one, a 5xx,
 * connection failure or timeout waits the {@link #BACKOFF}. A 429 without {@code Retry-After} is not
 * retried here: the redelivery is its backoff. A {@code Retry-After} that does not fit fails the item at
 * once, and the message says so; the failure carries the wait ({@link HttpCallException#retryAfter()}, a
 * {@link dev.fanout.engine.RetryAfter}), so that a queue's record comes back no earlier than the server asked
 * (an unreadable {@code Retry-After} asks for nothing). A retry repeats the hop that failed (after redirects, the redirected
 * request) as it is, a POST too: items are delivered at least once anyway.
 */
final class RetryPolicy {

    static final long MIN_RETRY_MILLIS = 100;
    /** How much of an unreadable Retry-After a failure keeps, for the log. */
    static final int MAX_UNREADABLE_CHARS = 40;
    /** The longest wait a Retry-After in seconds reads as (about 31.7 years): more digits say no more. */
    static final Duration LONGEST_RETRY_AFTER = Duration.ofSeconds(999_999_999);
    /** 100 ms, 200 ms, 400 ms ... up to 1 s, each the ceiling of a full-jitter pause. */
    static final Backoff BACKOFF = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1));

    private final int maxAttempts;

    RetryPolicy(int maxAttempts) {
        this.maxAttempts = maxAttempts;
    }

    /**
     * The failure a final response of {@code status} (a 4xx or 5xx) from {@code hop} makes.
     *
     * @throws NonRetryableException for a 4xx other than 429
     */
    static HttpCallException failure(Response response, OutboundRequest hop) {
        int status = response.status();
        if (status != 429 && status < 500) {
            throw new NonRetryableException(MessageText.statusLine(status, hop.uri()));
        }
        boolean asks = status == 429 || status == 503;
        Duration retryAfter = asks ? parseRetryAfter(response.retryAfter(), Instant.now()) : null;
        String unreadable = asks && retryAfter == null && response.retryAfter() != null
                ? shortened(response.retryAfter())
                : null;
        return new HttpCallException(status, retryAfter, unreadable, MessageText.statusLine(status, hop.uri()), null);
    }

    /** How long to wait before the next attempt; throws {@code failure} when there is to be none. */
    Duration waitAfter(HttpCallException failure, int attempt, Duration left) throws HttpCallException {
        if (attempt >= maxAttempts) {
            throw attempt > 1 ? failure.withSuffix(" (after " + attempt + " attempts)") : failure;
        }
        Duration room = left.minusMillis(MIN_RETRY_MILLIS);
        Optional<Duration> asked = failure.retryAfter();
        if (asked.isPresent()) {
            Duration wait = asked.get();
            if (wait.compareTo(room) > 0) {
                throw failure.withSuffix(": Retry-After " + ceilSeconds(wait) + " s " + (wait.compareTo(left) >= 0
                        ? "exceeds the " + tenths(left) + " s left"
                        : "leaves too little of the " + tenths(left) + " s left for another attempt"));
            }
            return wait;
        }
        if (failure.status() == 429) {
            throw failure; // no hint from the server: the redelivery's delay is the backoff
        }
        Duration wait = BACKOFF.pause(attempt);
        if (wait.compareTo(room) > 0) {
            throw failure;
        }
        return wait;
    }

    /**
     * Seconds (delta-seconds) or an HTTP-date; null if absent or unreadable (a negative number too). A past date is no
     * wait; more than 9 digits of seconds read as {@link #LONGEST_RETRY_AFTER}.
     */
    static Duration parseRetryAfter(String value, Instant now) {
        if (value == null) {
            return null;
        }
        String text = value.strip();
        if (text.matches("\\d{1,9}")) {
            return Duration.ofSeconds(Long.parseLong(text));
        }
        if (text.matches("\\d{10,}")) {
            return LONGEST_RETRY_AFTER;
        }
        try {
            Duration wait = Duration.between(now, DateTimeFormatter.RFC_1123_DATE_TIME.parse(text, Instant::from));
            return wait.isNegative() ? Duration.ZERO : wait;
        } catch (DateTimeParseException unreadable) {
            return null;
        }
    }

    private static String shortened(String value) {
        return value.length() <= MAX_UNREADABLE_CHARS ? value : value.substring(0, MAX_UNREADABLE_CHARS) + "...";
    }

    private static String ceilSeconds(Duration d) {
        return Long.toString((d.toMillis() + 999) / 1000);
    }

    private static String tenths(Duration d) {
        return String.format(Locale.ROOT, "%.1f", Math.max(0, d.toMillis()) / 1000.0);
    }
}

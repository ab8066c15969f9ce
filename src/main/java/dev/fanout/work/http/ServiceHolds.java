package dev.fanout.work.http;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.fanout.engine.Ticker;

/**
 * What a service said about itself. A {@code 429} or {@code 503} with a {@code Retry-After} describes the service
 * (scheme, host and port), not the one item that got it: until the wait ends, no other item of that service is
 * sent, in this invocation or in a later warm one. Such an item fails at once, retryably, with the wait that is left
 * ({@link HttpCallException#retryAfter()}): it waits in the item if the rest fits ({@link RetryPolicy}), or its
 * record is handed back no earlier than the service asked. It is never sent and never failed for good.
 * <p>
 * When the wait is over, one call goes first (the probe) and the other items of the service wait for its answer, no
 * longer than their own time allows: a new {@code Retry-After} holds the service again; any other answer, or none,
 * lifts the hold. So a service that keeps answering 503 for a minute gets about one call per wait it asked for, not one
 * per item.
 * <p>
 * One registry per {@link HttpCallFunction} (an application-scoped bean), bounded: beyond {@code capacity} services
 * the least recently used is forgotten. Holds are kept on a monotonic ticker, whose readings mean nothing after a
 * SnapStart restore: {@link #clear()} forgets them. A hold is at most {@code maxHold}, whatever the service asked.
 */
public final class ServiceHolds {

    /** Services remembered at most. */
    public static final int CAPACITY = 1_000;
    /** The longest hold: a service that asks for more is held this long (its records are capped by the backoff). */
    public static final Duration MAX_HOLD = Duration.ofMinutes(15);

    /**
     * What {@link #send} calls when the service is not held; besides a failed exchange, it may throw what waiting
     * for the service's permit throws (issue 23), which passes through unchanged.
     */
    @FunctionalInterface
    interface Call {
        Response send(OutboundRequest hop) throws Exception;
    }

    /** A service: scheme, host and port (the scheme's default port if the URL has none). */
    record Service(String scheme, String host, int port) {
        static Service of(URI uri) {
            String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
            int port = uri.getPort() != -1 ? uri.getPort() : "https".equals(scheme) ? 443 : 80;
            return new Service(scheme, uri.getHost().toLowerCase(Locale.ROOT), port);
        }

        @Override
        public String toString() {
            return scheme + "://" + host + ":" + port;
        }
    }

    /** A service's hold: the answer that set it and until when. {@code probe} is set while the first call after it runs. */
    private static final class Hold {
        final int status;
        final Duration asked;
        final long untilNanos;
        CountDownLatch probe;

        Hold(int status, Duration asked, long untilNanos) {
            this.status = status;
            this.asked = asked;
            this.untilNanos = untilNanos;
        }
    }

    private final int capacity;
    private final Duration maxHold;
    private final Ticker ticker;
    private final Map<Service, Hold> holds;
    /** Whether any service is held: the common case, none, takes no lock. Written under the lock. */
    private volatile boolean anyHeld;

    /** The registry {@link HttpCallFunction} uses: {@link #CAPACITY} services, {@link #MAX_HOLD}, the system's ticker. */
    public static ServiceHolds defaults() {
        return new ServiceHolds(CAPACITY, MAX_HOLD, Ticker.system());
    }

    /** A registry that keeps nothing: every item is sent (what Fanout did before; for comparisons). */
    public static ServiceHolds off() {
        return new ServiceHolds(0, MAX_HOLD, Ticker.system());
    }

    /**
     * @param capacity services remembered at most (0: none, no hold is ever kept)
     * @param maxHold  the longest hold, positive
     * @param ticker   the clock of the holds
     */
    public ServiceHolds(int capacity, Duration maxHold, Ticker ticker) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must not be negative, was " + capacity);
        }
        if (!maxHold.isPositive()) {
            throw new IllegalArgumentException("maxHold must be positive, was " + maxHold);
        }
        this.capacity = capacity;
        this.maxHold = maxHold;
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.holds = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Service, Hold> eldest) {
                return size() > capacity;
            }
        };
    }

    /**
     * Sends {@code hop} with {@code call} unless its service is held, and keeps what the answer says about the
     * service.
     *
     * @param left the item's time left: how long it may wait for a probe's answer
     * @throws HttpCallException    the service is held (not sent; carries the wait that is left), or the probe did not
     *                              answer within {@code left}
     * @throws InterruptedException the item was cancelled while it waited for the probe
     */
    Response send(OutboundRequest hop, Duration left, Call call) throws Exception {
        if (capacity == 0) {
            return call.send(hop);
        }
        Service service = Service.of(hop.uri());
        Hold probing = admit(service, left);
        boolean answered = false;
        try {
            Response response = call.send(hop);
            answered(service, probing, response);
            answered = true;
            return response;
        } finally {
            if (!answered) {
                unanswered(service, probing);
            }
        }
    }

    /** Services held now (their wait not over, or their probe running). */
    public synchronized int size() {
        return holds.size();
    }

    /** Forgets every hold (after a SnapStart restore); items waiting for a probe go on. */
    public synchronized void clear() {
        holds.values().forEach(ServiceHolds::release);
        holds.clear();
        anyHeld = false;
    }

    /** The hold that this call probes (null: no hold, or none any more), after waiting for another probe if need be. */
    private Hold admit(Service service, Duration left) throws HttpCallException, InterruptedException {
        // the item's own time is real time, whatever clock the holds are kept on
        long waitUntil = System.nanoTime() + left.minusMillis(RetryPolicy.MIN_RETRY_MILLIS).toNanos();
        while (true) {
            if (!anyHeld) {
                return null;
            }
            CountDownLatch probe;
            synchronized (this) {
                Hold hold = holds.get(service);
                if (hold == null) {
                    return null;
                }
                long rest = hold.untilNanos - ticker.nanoTime();
                if (rest > 0) {
                    throw new HttpCallException(hold.status, Duration.ofNanos(rest), "not sent: " + service + " answered "
                            + hold.status + " with Retry-After " + seconds(hold.asked) + " s", null);
                }
                if (hold.probe == null) {
                    hold.probe = new CountDownLatch(1);
                    return hold;
                }
                probe = hold.probe;
            }
            long wait = waitUntil - System.nanoTime();
            if (wait <= 0 || !probe.await(wait, TimeUnit.NANOSECONDS)) {
                throw new HttpCallException(0, null, "not sent: the first call to " + service
                        + " after its Retry-After did not answer in the time left", null);
            }
        }
    }

    private void answered(Service service, Hold probing, Response response) {
        int status = response.status();
        Duration asked = status == 429 || status == 503
                ? RetryPolicy.parseRetryAfter(response.retryAfter(), Instant.now())
                : null;
        if (probing == null && (asked == null || !asked.isPositive())) {
            return; // nothing to hold, no hold to lift
        }
        synchronized (this) {
            if (asked != null && asked.isPositive()) {
                long until = ticker.nanoTime() + (asked.compareTo(maxHold) > 0 ? maxHold : asked).toNanos();
                Hold current = holds.get(service);
                if (current == null || current.untilNanos - until < 0) {
                    holds.put(service, new Hold(status, asked, until));
                }
            } else if (holds.get(service) == probing) {
                holds.remove(service); // the first call after the wait got an answer that asks for none
            }
            anyHeld = !holds.isEmpty();
        }
        release(probing);
    }

    private void unanswered(Service service, Hold probing) {
        if (probing != null) {
            synchronized (this) {
                if (holds.get(service) == probing) {
                    holds.remove(service);
                }
                anyHeld = !holds.isEmpty();
            }
            release(probing);
        }
    }

    private static void release(Hold hold) {
        if (hold != null && hold.probe != null) {
            hold.probe.countDown();
        }
    }

    private static long seconds(Duration d) {
        return d.toSeconds() + (d.getNano() > 0 ? 1 : 0);
    }
}

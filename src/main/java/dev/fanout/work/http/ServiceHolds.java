package dev.fanout.work.http;

import java.net.ConnectException;
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
 * A service that is down says nothing of when to come back: after {@code holdAfterFailures} failures in a row (a
 * {@code 503} that asks for no wait, a refused connection; no answer of the service in between) it is held
 * {@link #DOWN_HOLD} and, each time the first call after the hold fails again, twice as long as the time before, up to
 * {@link #DOWN_HOLD_MAX}: a circuit breaker whose open time grows. Any other answer (a 2xx to 5xx that is not a 503,
 * a 503 with a wait it asks for) ends the run of failures; a {@code 429} neither counts nor ends it (throttling is the
 * adaptive limit's business, docs/adaptive-limits.md); neither does a call that got no answer for another reason
 * (a timeout, a reset connection).
 * <p>
 * When a hold is over, one call goes first (the probe) and the other items of the service wait for its answer, no
 * longer than their own time allows: a new {@code Retry-After}, or another failure of a service held for failures,
 * holds the service again; any other answer, or none, lifts the hold. So a service that keeps answering 503 for a
 * minute gets about one call per hold, not one per item.
 * <p>
 * One registry per {@link HttpCallFunction} (an application-scoped bean), bounded: beyond {@code capacity} services
 * the least recently used is forgotten (its hold, and its run of failures). Holds are kept on a monotonic ticker,
 * whose readings mean nothing after a SnapStart restore: {@link #clear()} forgets them. A hold is at most
 * {@code maxHold}, whatever the service asked.
 */
public final class ServiceHolds {

    /** Services remembered at most. */
    public static final int CAPACITY = 1_000;
    /** The longest hold: a service that asks for more is held this long (its records are capped by the backoff). */
    public static final Duration MAX_HOLD = Duration.ofMinutes(15);
    /** Failures in a row that hold a service that asks for no wait: {@code fanout.http.hold-after-failures}'s default. */
    public static final int HOLD_AFTER_FAILURES = 5;
    /** The first hold of a service held for its failures: short enough to wait for inside an item. */
    public static final Duration DOWN_HOLD = Duration.ofSeconds(1);
    /**
     * The longest hold of a service held for its failures: a service that stays down gets about one call a minute
     * from each execution environment, and one that recovers waits at most this long for its first call.
     */
    public static final Duration DOWN_HOLD_MAX = Duration.ofMinutes(1);

    /**
     * What {@link #send} calls when the service is not held; besides a failed exchange, it may throw what waiting
     * for the service's permit throws (issue 23), which passes through unchanged.
     */
    @FunctionalInterface
    interface Call {
        Response send(OutboundRequest hop) throws Exception;
    }

    /**
     * A {@link Call} that may wait before it sends (for its service's permit): it calls {@code recheck} right before
     * sending, which throws as {@link #send} does if the service was held while the call waited.
     */
    @FunctionalInterface
    interface WaitingCall {
        Response send(OutboundRequest hop, Recheck recheck) throws Exception;
    }

    /** See {@link WaitingCall}. */
    @FunctionalInterface
    interface Recheck {
        void notHeld() throws HttpCallException;
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

    /**
     * A service's hold: the status a held item fails with, why the service is held (for the message) and until when.
     * {@code probe} is set while the first call after it runs.
     */
    private static final class Hold {
        final int status;
        final String why;
        final long untilNanos;
        CountDownLatch probe;

        Hold(int status, String why, long untilNanos) {
            this.status = status;
            this.why = why;
            this.untilNanos = untilNanos;
        }
    }

    /** A service's run of failures: how many in a row, and how many holds they have set (the next one is longer). */
    private static final class Streak {
        int failures;
        int holds;
    }

    private final int capacity;
    private final Duration maxHold;
    private final int holdAfterFailures;
    private final Ticker ticker;
    private final Map<Service, Hold> holds;
    private final Map<Service, Streak> streaks;
    /** Whether any service is held: the common case, none, takes no lock. Written under the lock. */
    private volatile boolean anyHeld;
    /** Whether any service's last answers were failures: the common case, none, takes no lock on a success. */
    private volatile boolean anyFailing;

    /**
     * The registry {@link HttpCallFunction} uses: {@link #CAPACITY} services, {@link #MAX_HOLD}, the system's ticker,
     * holding a service after {@code failures} in a row (0: only when it asks).
     */
    public static ServiceHolds withHoldAfterFailures(int failures) {
        return new ServiceHolds(CAPACITY, MAX_HOLD, failures, Ticker.system());
    }

    /** A registry that keeps nothing: every item is sent (what Fanout did before; for comparisons). */
    public static ServiceHolds off() {
        return new ServiceHolds(0, MAX_HOLD, 0, Ticker.system());
    }

    /** A registry that holds a service only when it asks ({@code Retry-After}). */
    public ServiceHolds(int capacity, Duration maxHold, Ticker ticker) {
        this(capacity, maxHold, 0, ticker);
    }

    /**
     * @param capacity          services remembered at most (0: none, no hold is ever kept)
     * @param maxHold           the longest hold, positive
     * @param holdAfterFailures failures in a row that hold a service that asks for no wait (0: never)
     * @param ticker            the clock of the holds
     */
    public ServiceHolds(int capacity, Duration maxHold, int holdAfterFailures, Ticker ticker) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity must not be negative, was " + capacity);
        }
        if (!maxHold.isPositive()) {
            throw new IllegalArgumentException("maxHold must be positive, was " + maxHold);
        }
        if (holdAfterFailures < 0) {
            throw new IllegalArgumentException("holdAfterFailures must not be negative, was " + holdAfterFailures);
        }
        this.capacity = capacity;
        this.maxHold = maxHold;
        this.holdAfterFailures = holdAfterFailures;
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.holds = lru(capacity);
        this.streaks = lru(capacity);
    }

    private static <V> Map<Service, V> lru(int capacity) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Service, V> eldest) {
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
        return send(hop, left, (h, recheck) -> call.send(h));
    }

    /**
     * As {@link #send(OutboundRequest, Duration, Call)}, for a call that may wait before it sends: an item that was
     * let through and then waited while the first wave's failures held the service is not sent either.
     */
    Response send(OutboundRequest hop, Duration left, WaitingCall call) throws Exception {
        if (capacity == 0) {
            return call.send(hop, () -> {
            });
        }
        Service service = Service.of(hop.uri());
        Hold probing = admit(service, left);
        Recheck recheck = probing != null ? () -> {
        } : () -> notHeld(service);
        Response response;
        try {
            response = call.send(hop, recheck);
        } catch (Throwable e) {
            unanswered(service, probing, e);
            throw e;
        }
        answered(service, probing, response);
        return response;
    }

    /** Services held now (their wait not over, or their probe running). */
    public synchronized int size() {
        return holds.size();
    }

    /** Forgets every hold and run of failures (after a SnapStart restore); items waiting for a probe go on. */
    public synchronized void clear() {
        holds.values().forEach(ServiceHolds::release);
        holds.clear();
        streaks.clear();
        anyHeld = false;
        anyFailing = false;
    }

    /** Throws what {@link #admit} throws for a service whose hold is in force; lets a call through otherwise. */
    private void notHeld(Service service) throws HttpCallException {
        if (!anyHeld) {
            return;
        }
        synchronized (this) {
            Hold hold = holds.get(service);
            if (hold != null) {
                long rest = hold.untilNanos - ticker.nanoTime();
                if (rest > 0) {
                    throw held(service, hold, rest);
                }
            }
        }
    }

    private static HttpCallException held(Service service, Hold hold, long restNanos) {
        return new HttpCallException(hold.status, Duration.ofNanos(restNanos), "not sent: " + service + " " + hold.why, null);
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
                    throw held(service, hold, rest);
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
                        + " after its hold did not answer in the time left", null);
            }
        }
    }

    private void answered(Service service, Hold probing, Response response) {
        int status = response.status();
        Duration asked = status == 429 || status == 503
                ? RetryPolicy.parseRetryAfter(response.retryAfter(), Instant.now())
                : null;
        boolean waits = asked != null && asked.isPositive();
        boolean failed = status == 503 && !waits;
        boolean endsAStreak = !failed && status != 429;
        if (probing == null && !waits && !failed && !(endsAStreak && anyFailing)) {
            return; // nothing to hold, no hold to lift, no run of failures to end
        }
        synchronized (this) {
            if (waits) {
                long until = ticker.nanoTime() + (asked.compareTo(maxHold) > 0 ? maxHold : asked).toNanos();
                Hold current = holds.get(service);
                if (current == null || current.untilNanos - until < 0) {
                    holds.put(service, new Hold(status, "answered " + status + " with Retry-After " + seconds(asked) + " s",
                            until));
                }
            } else if (failed) {
                failure(service, probing, status);
            } else {
                if (endsAStreak) {
                    streaks.remove(service);
                }
                liftIfProbed(service, probing); // the first call after the wait got an answer that asks for none
            }
            anyHeld = !holds.isEmpty();
            anyFailing = !streaks.isEmpty();
        }
        release(probing);
    }

    private void unanswered(Service service, Hold probing, Throwable failure) {
        boolean refused = refused(failure);
        if (probing == null && !refused) {
            return;
        }
        synchronized (this) {
            if (refused) {
                failure(service, probing, 0);
            } else {
                liftIfProbed(service, probing);
            }
            anyHeld = !holds.isEmpty();
            anyFailing = !streaks.isEmpty();
        }
        release(probing);
    }

    /**
     * One more failure of the service in a row; enough of them hold it, unless a hold other than the one
     * {@code probing} tests is in force (the failure was sent before that hold began). Under the lock.
     */
    private void failure(Service service, Hold probing, int status) {
        if (holdAfterFailures == 0) {
            liftIfProbed(service, probing);
            return;
        }
        Streak streak = streaks.computeIfAbsent(service, s -> new Streak());
        streak.failures++;
        Hold current = holds.get(service);
        if (streak.failures < holdAfterFailures) {
            liftIfProbed(service, probing);
            return;
        }
        if (current != null && current != probing) {
            return;
        }
        Duration hold = DOWN_HOLD.multipliedBy(1L << Math.min(streak.holds, 20));
        hold = hold.compareTo(DOWN_HOLD_MAX) > 0 ? DOWN_HOLD_MAX : hold;
        hold = hold.compareTo(maxHold) > 0 ? maxHold : hold;
        streak.holds++;
        holds.put(service, new Hold(status == 0 ? 503 : status, "is held " + seconds(hold) + " s: " + streak.failures
                + " failures in a row, the last " + (status == 0 ? "a refused connection" : "a " + status + " without Retry-After"),
                ticker.nanoTime() + hold.toNanos()));
    }

    /** Lifts the hold whose first call {@code probing} was. Under the lock. */
    private void liftIfProbed(Service service, Hold probing) {
        if (probing != null && holds.get(service) == probing) {
            holds.remove(service);
        }
    }

    /** Whether the call failed because the service refused the connection (nothing listens: it is down). */
    static boolean refused(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                return true;
            }
        }
        return false;
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

package dev.fanout.work.limits;

/**
 * The right to send one request to a service, held from {@link ServiceLimit#acquire} until the request's end is
 * reported: once, by one of {@link #success()}, {@link #dropped()}, {@link #timedOut()} or {@link #ignore()};
 * {@link #close()} ignores a permit whose end was not reported (a request that failed in the caller's own code).
 */
public interface Permit extends AutoCloseable {

    /** The service answered, and well: its latency is a sample of the limit's algorithm. */
    void success();

    /**
     * The service is overloaded or out of reach: it answered 429 or 503, refused or reset the connection, or
     * timed out. The limit shrinks.
     */
    void dropped();

    /**
     * The service did not answer in the request's time: a drop, and when no request of a whole round trip got an
     * answer, the limit falls to its minimum at once (the service is still probed, and the limit grows back by a
     * slow start when it answers again; docs/adaptive-limits.md).
     */
    default void timedOut() {
        dropped();
    }

    /** The request tells nothing of the service (cancelled, refused before it was sent): no sample. */
    void ignore();

    /** {@link #ignore()} unless the end was reported. */
    @Override
    void close();

    /** A permit of nothing: limits are off. */
    Permit NONE = new Permit() {
        @Override
        public void success() {
        }

        @Override
        public void dropped() {
        }

        @Override
        public void ignore() {
        }

        @Override
        public void close() {
        }
    };
}

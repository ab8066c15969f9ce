package dev.fanout.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What became of one item. Every item of a batch gets exactly one outcome, set once: a result that
 * arrives after the item was timed out can never replace it.
 */
public sealed interface Outcome<R> {

    /** The outcome kinds, for counting and for the wire. */
    enum Status {
        SUCCEEDED, FAILED, REJECTED, TIMED_OUT, NOT_STARTED
    }

    Status status();

    /** When the item started and how long it ran; empty for an item that never started. */
    Optional<Timing> timing();

    default boolean isSuccess() {
        return status() == Status.SUCCEEDED;
    }

    /** When an item started (wall clock) and how long it ran until its outcome was set. */
    record Timing(Instant startedAt, Duration duration) {
        public Timing {
            Objects.requireNonNull(startedAt, "startedAt");
            Objects.requireNonNull(duration, "duration");
        }
    }

    /** The handler returned {@code value}. */
    record Succeeded<R>(R value, Timing time) implements Outcome<R> {
        public Status status() {
            return Status.SUCCEEDED;
        }

        public Optional<Timing> timing() {
            return Optional.of(time);
        }
    }

    /**
     * The handler threw {@code error}; {@code retryable} is false for a {@link NonRetryableException}.
     * {@code retryAfter} is the wait a retryable failure asked for itself ({@link RetryAfter}, as a
     * {@link RetryLaterException} does), as given: the entry point checks and caps it.
     */
    record Failed<R>(Throwable error, boolean retryable, Timing time, Optional<Duration> retryAfter)
            implements Outcome<R> {
        public Failed {
            Objects.requireNonNull(error, "error");
            Objects.requireNonNull(retryAfter, "retryAfter");
        }

        /** A failure that asks for no wait of its own. */
        public Failed(Throwable error, boolean retryable, Timing time) {
            this(error, retryable, time, Optional.empty());
        }

        public Status status() {
            return Status.FAILED;
        }

        public Optional<Timing> timing() {
            return Optional.of(time);
        }
    }

    /** The item is malformed and can never be processed ({@link RejectedItemException}). */
    record Rejected<R>(String reason, Timing time) implements Outcome<R> {
        public Status status() {
            return Status.REJECTED;
        }

        public Optional<Timing> timing() {
            return Optional.of(time);
        }
    }

    /** The item started but was cancelled, at the cut-off or at its own timeout. */
    record TimedOut<R>(Cancellation.Cause cause, Timing time) implements Outcome<R> {
        public Status status() {
            return Status.TIMED_OUT;
        }

        public Optional<Timing> timing() {
            return Optional.of(time);
        }
    }

    /** The item never started. */
    record NotStarted<R>(Reason reason, OptionalInt haltedBy) implements Outcome<R> {

        public enum Reason {
            /** The cut-off came before a slot did. */
            CUT_OFF,
            /** An earlier item of its FIFO group did not succeed ({@link #haltedBy} names it). */
            GROUP_HALTED,
            /**
             * It waited outside the engine (for a permit of the downstream service it calls, {@link Slot}) until
             * its deadline, and began nothing.
             */
            NOT_ADMITTED
        }

        static <R> NotStarted<R> cutOff() {
            return new NotStarted<>(Reason.CUT_OFF, OptionalInt.empty());
        }

        static <R> NotStarted<R> notAdmitted() {
            return new NotStarted<>(Reason.NOT_ADMITTED, OptionalInt.empty());
        }

        static <R> NotStarted<R> groupHaltedBy(int index) {
            return new NotStarted<>(Reason.GROUP_HALTED, OptionalInt.of(index));
        }

        public Status status() {
            return Status.NOT_STARTED;
        }

        public Optional<Timing> timing() {
            return Optional.empty();
        }
    }
}

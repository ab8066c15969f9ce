package dev.fanout.work.builtin;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.RejectedItemException;
import io.quarkus.funqy.Funq;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

/**
 * The built-in {@code delay} type: waits {@code millis}, then fails with probability {@code failRate}
 * (retryable, or permanent with {@code permanent: true}). For load tests of a deployed stack and for
 * the benchmarks: it is simulated I/O that parks its virtual thread and honours cancellation, unless
 * {@code ignoreCancellation} asks it to behave like a handler that swallows interrupts (for chaos runs:
 * the engine must still answer by the deadline, and count the item as abandoned).
 *
 * <pre>{"type": "delay", "payload": {"millis": 20, "failRate": 0.1}}  ->  {"sleptMillis": 20}</pre>
 */
@Singleton
public class DelayFunction {

    public static final String TYPE = "delay";

    private final Duration maxDelay;

    /** @param maxDelay the longest wait an item may ask for */
    public record Settings(Duration maxDelay) {
    }

    @Inject
    public DelayFunction(Settings settings) {
        this(settings.maxDelay());
    }

    public DelayFunction(Duration maxDelay) {
        this.maxDelay = maxDelay;
    }

    public record Input(Long millis, Double failRate, Boolean permanent, Boolean ignoreCancellation) {
    }

    public record Output(long sleptMillis) {
    }

    @Funq(TYPE)
    public Output delay(Input input) throws InterruptedException {
        long millis = input.millis() == null ? 0 : input.millis();
        double failRate = input.failRate() == null ? 0 : input.failRate();
        if (millis < 0 || millis > maxDelay.toMillis()) {
            throw new RejectedItemException("field 'millis' must be between 0 and " + maxDelay.toMillis() + ", was " + millis);
        }
        if (!(failRate >= 0 && failRate <= 1)) {
            throw new RejectedItemException("field 'failRate' must be between 0 and 1, was " + failRate);
        }
        if (Boolean.TRUE.equals(input.ignoreCancellation())) {
            long until = System.nanoTime() + millis * 1_000_000;
            for (long left; (left = until - System.nanoTime()) > 0;) {
                try {
                    Thread.sleep(Duration.ofNanos(left));
                } catch (InterruptedException swallowed) {
                    // what a careless handler does: sleeps on. (Parking with the flag left set would spin instead.)
                }
            }
        } else {
            Thread.sleep(millis);
        }
        if (failRate > 0 && ThreadLocalRandom.current().nextDouble() < failRate) {
            if (Boolean.TRUE.equals(input.permanent())) {
                throw new NonRetryableException("delay: injected permanent failure");
            }
            throw new IllegalStateException("delay: injected failure");
        }
        return new Output(millis);
    }
}

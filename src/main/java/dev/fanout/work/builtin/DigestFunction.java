package dev.fanout.work.builtin;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import dev.fanout.engine.RejectedItemException;
import dev.fanout.work.WorkContext;
import io.quarkus.funqy.Context;
import io.quarkus.funqy.Funq;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

/**
 * The built-in {@code digest} type: SHA-256 of the payload's {@code data}, applied {@code rounds} times.
 * A CPU-bound job, to show how CPU work behaves in the pool: it holds a carrier thread while it runs, so
 * CPU items scale with cores, not with the concurrency limit. It checks its cancellation every
 * {@value #CHECK_EVERY} rounds.
 *
 * <pre>{"type": "digest", "payload": {"data": "hello", "rounds": 1000}}  ->  {"sha256": "...", "rounds": 1000}</pre>
 */
@Singleton
public class DigestFunction {

    public static final String TYPE = "digest";
    static final int CHECK_EVERY = 1024;

    private final int maxRounds;

    /** @param maxRounds the most rounds an item may ask for */
    public record Settings(int maxRounds) {
    }

    @Inject
    public DigestFunction(Settings settings) {
        this(settings.maxRounds());
    }

    public DigestFunction(int maxRounds) {
        if (maxRounds < 1) {
            throw new IllegalArgumentException("maxRounds must be at least 1, was " + maxRounds);
        }
        this.maxRounds = maxRounds;
    }

    /** @param rounds how many times to hash; 1 when absent */
    public record Input(String data, Integer rounds) {
        public Input {
            if (data == null) {
                throw new IllegalArgumentException("field 'data' is required");
            }
        }
    }

    public record Output(String sha256, int rounds) {
    }

    @Funq(TYPE)
    public Output digest(Input input, @Context WorkContext context) {
        int rounds = input.rounds() == null ? 1 : input.rounds();
        if (rounds < 1 || rounds > maxRounds) {
            throw new RejectedItemException(
                    "field 'rounds' must be between 1 and " + maxRounds + ", was " + rounds);
        }
        return new Output(HexFormat.of().formatHex(hash(input.data(), rounds, context)), rounds);
    }

    static byte[] hash(String data, int rounds, WorkContext context) {
        MessageDigest sha256 = sha256();
        byte[] hash = sha256.digest(data.getBytes(StandardCharsets.UTF_8));
        for (int round = 1; round < rounds; round++) {
            if (context != null && round % CHECK_EVERY == 0) {
                context.cancellation().throwIfCancelled();
            }
            hash = sha256.digest(hash);
        }
        return hash;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}

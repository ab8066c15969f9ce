package dev.fanout.work.builtin;

/**
 * Gives the benchmarks the exact CPU work of the built-in {@code digest} item type, without the JSON
 * binding around it: {@link DigestFunction#hash} is package-private, so this test-side class in the
 * same package forwards to it.
 */
public final class BenchDigest {

    private BenchDigest() {
    }

    /** SHA-256 of {@code data}, applied {@code rounds} times; never checks a cancellation. */
    public static byte[] digest(String data, int rounds) {
        return DigestFunction.hash(data, rounds, null);
    }
}

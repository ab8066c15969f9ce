package dev.fanout.startup;

import java.time.Duration;
import java.util.List;

/**
 * What one priming run did (for the log and the tests), and the batch every entry point primes with: every
 * built-in path but the network.
 *
 * @param events  events read as the entry point reads them
 * @param items   items run through the engine
 * @param results results written (to a queue in process, or into an answer)
 */
public record Priming(int events, int items, int results) {

    /** A digest, a delay of 0 ms, an unknown type and a body that is not JSON: each of the item's outcomes. */
    public static final List<String> ITEMS = List.of(
            "{\"id\":\"prime-digest\",\"type\":\"digest\",\"payload\":{\"data\":\"prime\",\"rounds\":2}}",
            "{\"id\":\"prime-delay\",\"type\":\"delay\",\"payload\":{\"millis\":0}}",
            "{\"id\":\"prime-unknown\",\"type\":\"no-such-type\"}",
            "not json");

    /** Enough for the engine's cut-off margin and the priming items, which take milliseconds. */
    public static final Duration TIME = Duration.ofSeconds(30);

    /** A trace id of X-Ray's form, so that the results carry the attribute an invocation's results carry. */
    public static final String TRACE_ID = "Root=1-00000000-000000000000000000000000";

    /** More digest rounds than the priming digest asks for (2). */
    public static final int DIGEST_ROUNDS = 16;
}

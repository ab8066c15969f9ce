package dev.fanout.batch;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;

import dev.fanout.engine.Outcome;

/**
 * What a record's outcome means for the queue it came from, in one place: which outcomes are final, which
 * records are acknowledged, and the FIFO order of their results.
 * <ul>
 * <li>A final outcome (succeeded, failed for good, rejected as malformed) gets a result and, once that result
 * is confirmed, its record is acknowledged. Any other outcome is handed back, and the source delivers the
 * record again.</li>
 * <li>FIFO: a group goes on after a final outcome (the engine's {@code Batch.continuingAfter(RecordRules::isFinal)}),
 * a group's result waits for the confirmation of the group's previous result ({@link #previousInGroup}), and
 * once a record of a group is handed back, so is every later record of that group ({@link #acknowledged}).</li>
 * </ul>
 */
public final class RecordRules {

    private RecordRules() {
    }

    /** Final outcomes are acknowledged once their result is out; the rest come back from the source. */
    public static boolean isFinal(Outcome<?> outcome) {
        return switch (outcome) {
            case Outcome.Succeeded<?> s -> true;
            case Outcome.Rejected<?> r -> true;
            case Outcome.Failed<?> f -> !f.retryable();
            case Outcome.TimedOut<?> t -> false;
            case Outcome.NotStarted<?> ns -> false;
        };
    }

    /**
     * Which of {@code n} records are acknowledged: those whose result is {@code confirmed}, except that in a
     * FIFO group ({@code group} not null) nothing after a record handed back is acknowledged, so the group
     * comes back in order.
     */
    public static boolean[] acknowledged(int n, IntPredicate confirmed, IntFunction<String> group) {
        boolean[] done = new boolean[n];
        Set<String> brokenGroups = new HashSet<>();
        for (int i = 0; i < n; i++) {
            done[i] = confirmed.test(i);
            String g = group.apply(i);
            if (g != null) {
                if (brokenGroups.contains(g)) {
                    done[i] = false;
                } else if (!done[i]) {
                    brokenGroups.add(g);
                }
            }
        }
        return done;
    }

    /** For each record, the previous record whose result has the same group (null: none), or -1. */
    public static int[] previousInGroup(int n, IntFunction<String> group) {
        int[] previous = new int[n];
        Map<String, Integer> last = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String g = group.apply(i);
            Integer before = g == null ? null : last.put(g, i);
            previous[i] = before == null ? -1 : before;
        }
        return previous;
    }
}

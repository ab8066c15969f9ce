package dev.fanout.batch;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.function.IntPredicate;

import dev.fanout.engine.Batch;
import dev.fanout.engine.Outcome;
import dev.fanout.work.ParsedItem;

/**
 * What a record's outcome means for the queue it came from, in one place: which outcomes are final, which
 * records are acknowledged, when a FIFO group goes on, and the FIFO order of their results. The engine runs
 * groups in order and stops them (the mechanism, {@link Batch}); which outcomes let a group go on is decided
 * here, for both entry points ({@link #recordBatch}, {@link #requestBatch}).
 * <ul>
 * <li>A final outcome (succeeded, failed for good, rejected as malformed) gets a result and, once that result
 * is confirmed, its record is acknowledged. Any other outcome is handed back, and the source delivers the
 * record again.</li>
 * <li>FIFO: a group of queue records goes on after a final outcome ({@link #recordBatch}), since such a record is
 * never delivered again; a group of an HTTP request stops at its first item that does not succeed
 * ({@link #requestBatch}): nothing of it is delivered again, and its answer shows the rest not started;
 * a group's result waits for the confirmation of the group's previous result ({@link #previousInGroup}), and
 * once a record of a group is handed back, so is every later record of that group ({@link #acknowledged}).</li>
 * </ul>
 */
public final class RecordRules {

    private RecordRules() {
    }

    /** Queue records in their FIFO groups: a group goes on after a record that is final (acknowledged with its result). */
    public static Batch<ParsedItem> recordBatch(List<ParsedItem> items) {
        return Batch.fifo(items, RecordRules::groupOf).continuingAfter(RecordRules::isFinal);
    }

    /** An HTTP request's items in their groups: a group stops at its first item that does not succeed. */
    public static Batch<ParsedItem> requestBatch(List<ParsedItem> items) {
        return Batch.fifo(items, RecordRules::groupOf);
    }

    private static String groupOf(ParsedItem item) {
        return item.group().orElse(null);
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

package dev.fanout.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The ordered items of one run, optionally in FIFO groups: items that share a group key run one at a
 * time in input order, and a group stops at its first item that does not succeed (the rest of the group
 * is {@link Outcome.NotStarted} with reason {@code GROUP_HALTED}), unless
 * {@link #continuingAfter(Predicate)} lets it go on after some failures.
 */
public final class Batch<I> {

    private final List<I> items;
    private final String[] groups;
    private final Predicate<Outcome<?>> continueAfter;

    private Batch(List<I> items, String[] groups, Predicate<Outcome<?>> continueAfter) {
        this.items = items;
        this.groups = groups;
        this.continueAfter = continueAfter;
    }

    /** Independent items: any order, up to the concurrency limit. */
    public static <I> Batch<I> of(List<? extends I> items) {
        return new Batch<>(copy(items), null, outcome -> false);
    }

    /**
     * Items in FIFO groups. {@code groupKey} may return null for an item that belongs to no group.
     */
    public static <I> Batch<I> fifo(List<? extends I> items, Function<? super I, String> groupKey) {
        Objects.requireNonNull(groupKey, "groupKey");
        List<I> copy = copy(items);
        String[] groups = new String[copy.size()];
        for (int i = 0; i < groups.length; i++) {
            groups[i] = groupKey.apply(copy.get(i));
        }
        return new Batch<>(copy, groups, outcome -> false);
    }

    /**
     * This batch, where a group goes on after a failed or rejected item for which {@code finalFailure}
     * holds. For a source that acknowledges such items (an SQS record with a permanent error result is not
     * delivered again), stopping the group would only delay its later items by a redelivery. A timed-out
     * item always stops its group: it may still be running.
     */
    public Batch<I> continuingAfter(Predicate<Outcome<?>> finalFailure) {
        return new Batch<>(items, groups, Objects.requireNonNull(finalFailure, "finalFailure"));
    }

    /** Whether {@code outcome} of an item stops the rest of the item's group. */
    boolean haltsGroup(Outcome<?> outcome) {
        return switch (outcome) {
            case Outcome.Succeeded<?> s -> false;
            case Outcome.Failed<?> f -> !continueAfter.test(f);
            case Outcome.Rejected<?> r -> !continueAfter.test(r);
            case Outcome.TimedOut<?> t -> true;
            case Outcome.NotStarted<?> n -> true;
        };
    }

    public List<I> items() {
        return items;
    }

    public int size() {
        return items.size();
    }

    /** Whether any item may belong to a group (false for {@link #of}). */
    boolean hasGroups() {
        return groups != null;
    }

    /** The group key of item {@code index}, or null. */
    public String groupOf(int index) {
        return groups == null ? null : groups[index];
    }

    private static <I> List<I> copy(List<? extends I> items) {
        Objects.requireNonNull(items, "items");
        List<I> copy = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            I item = items.get(i);
            if (item == null) {
                throw new IllegalArgumentException("items[" + i + "] is null");
            }
            copy.add(item);
        }
        return Collections.unmodifiableList(copy);
    }
}

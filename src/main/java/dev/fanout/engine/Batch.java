package dev.fanout.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The ordered items of one run, optionally in FIFO groups: items that share a group key run one at
 * a time in input order, and a group stops at its first item that does not succeed.
 */
public final class Batch<I> {

    private final List<I> items;
    private final String[] groups;

    private Batch(List<I> items, String[] groups) {
        this.items = items;
        this.groups = groups;
    }

    /** Independent items: any order, up to the concurrency limit. */
    public static <I> Batch<I> of(List<? extends I> items) {
        return new Batch<>(copy(items), null);
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
        return new Batch<>(copy, groups);
    }

    public List<I> items() {
        return items;
    }

    public int size() {
        return items.size();
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

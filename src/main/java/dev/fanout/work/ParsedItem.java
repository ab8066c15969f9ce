package dev.fanout.work;

import java.util.Optional;

/** An incoming record read as an item: valid, or malformed with the reason it is rejected. */
public sealed interface ParsedItem {

    /** The item's id: its own, or the record's when it has none or could not be read. */
    String id();

    /** The FIFO group the item runs in, if any. */
    Optional<String> group();

    record Valid(WorkItem item) implements ParsedItem {
        public String id() {
            return item.id();
        }

        public Optional<String> group() {
            return item.group();
        }
    }

    record Malformed(String id, Optional<String> group, String reason) implements ParsedItem {
    }
}

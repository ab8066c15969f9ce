package dev.fanout.function;

import java.util.OptionalInt;

import dev.fanout.batch.SourceRecord;
import dev.fanout.work.ParsedItem;

/**
 * One record of a stream event, read: what the batch needs of it (its id, which is also its results'
 * deduplication id), its item (valid, or malformed with the reason it is rejected) and its sequence number,
 * where Lambda resumes if it is not done. A user record of a KPL aggregate has its Kinesis record's sequence
 * number and its own sub-sequence number (its place in the aggregate).
 */
record StreamEntry(SourceRecord source, ParsedItem item, String sequenceNumber, OptionalInt subSequence) {

    StreamEntry(SourceRecord source, ParsedItem item, String sequenceNumber) {
        this(source, item, sequenceNumber, OptionalInt.empty());
    }
}

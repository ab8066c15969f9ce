package dev.fanout.function;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;

import dev.fanout.batch.SourceRecord;
import dev.fanout.batch.StreamCheckpoint;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;

/**
 * Reads a Kinesis record as an item: its {@code data} (base64 in the event) is an item in Fanout's item format,
 * read by the same {@link ItemParser} as an SQS body, and its partition key is the item's group, so that the
 * records of one key run in order. The record's id is its {@code eventID} ({@code shardId-...:sequenceNumber}):
 * the results' {@code sourceMessageId}, the item's id when the item names none, and the deduplication id of
 * its result on a FIFO results queue, the same on every replay. A record the KPL aggregated
 * ({@link KplAggregate}) holds several user records: each is an item.
 */
final class KinesisRecords {

    private KinesisRecords() {
    }

    static List<StreamEntry> read(KinesisEvent.KinesisEventRecord record, int index, ItemParser parser) {
        KinesisEvent.Record kinesis = record == null ? null : record.getKinesis();
        String sequenceNumber = kinesis == null ? null : kinesis.getSequenceNumber();
        String recordId = recordId(record == null ? null : record.getEventID(), sequenceNumber);
        String id = recordId != null ? recordId : "record-" + index;
        SourceRecord source = source(recordId);
        if (kinesis == null) {
            return List.of(new StreamEntry(source, new ParsedItem.Malformed(id, Optional.empty(),
                    "record has no 'kinesis' member"), null));
        }
        String partitionKey = kinesis.getPartitionKey();
        Optional<String> group = partitionKey == null || partitionKey.isEmpty() ? Optional.empty()
                : Optional.of(partitionKey);
        String problem = problem(kinesis, group, sequenceNumber);
        if (problem != null) {
            return List.of(new StreamEntry(source, new ParsedItem.Malformed(id, group, problem), sequenceNumber));
        }
        return switch (KplAggregate.read(kinesis.getData())) {
            case KplAggregate.Plain plain -> List.of(new StreamEntry(source,
                    item(kinesis.getData(), id, group, parser), sequenceNumber));
            case KplAggregate.Bad bad -> List.of(new StreamEntry(source, new ParsedItem.Malformed(id, group,
                    bad.reason()), sequenceNumber));
            case KplAggregate.Unpacked unpacked -> userRecords(unpacked, recordId, id, group, sequenceNumber, parser);
        };
    }

    /**
     * Each user record of a KPL aggregate is an item of its own: its id is the Kinesis record's and its
     * sub-sequence number ({@code shardId-...:sequenceNumber:2}), stable on every replay; its group is its own
     * partition key. All have the Kinesis record's sequence number: Lambda checkpoints whole Kinesis records, so
     * an aggregate with any user record not done is delivered again from its first user record.
     */
    private static List<StreamEntry> userRecords(KplAggregate.Unpacked unpacked, String recordId, String id,
            Optional<String> group, String sequenceNumber, ItemParser parser) {
        List<StreamEntry> entries = new ArrayList<>(unpacked.records().size());
        for (int sub = 0; sub < unpacked.records().size(); sub++) {
            KplAggregate.UserRecord user = unpacked.records().get(sub);
            String userId = id + ":" + sub;
            Optional<String> userGroup = user.partitionKey() == null || user.partitionKey().isEmpty() ? group
                    : Optional.of(user.partitionKey());
            ParsedItem item = user.problem() != null ? new ParsedItem.Malformed(userId, userGroup, user.problem())
                    : item(ByteBuffer.wrap(user.data()), userId, userGroup, parser);
            entries.add(new StreamEntry(source(recordId == null ? null : userId), item, sequenceNumber,
                    OptionalInt.of(sub)));
        }
        return entries;
    }

    private static SourceRecord source(String recordId) {
        return new SourceRecord(recordId, null, Optional.empty(), null, null, null);
    }

    /** Why the record cannot be read at all, or null. */
    private static String problem(KinesisEvent.Record kinesis, Optional<String> group, String sequenceNumber) {
        if (!StreamCheckpoint.isSequenceNumber(sequenceNumber)) {
            return sequenceNumber == null ? "record has no sequenceNumber"
                    : "sequenceNumber '" + sequenceNumber + "' is not a Kinesis sequence number (decimal digits)";
        }
        if (group.isEmpty()) {
            return "record has no partitionKey";
        }
        ByteBuffer data = kinesis.getData();
        if (data == null) {
            return "record has no data";
        }
        if (StreamEventBindings.isNotBase64(data)) {
            return "data is not base64";
        }
        return null;
    }

    private static ParsedItem item(ByteBuffer data, String id, Optional<String> group, ItemParser parser) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(data.duplicate()).toString();
        } catch (CharacterCodingException e) {
            return new ParsedItem.Malformed(id, group, "data is not UTF-8 text (an item is JSON)");
        }
        return parser.parse(text, id, group);
    }

    /**
     * The eventID, else the sequence number, else none: a record without either has nothing stable to
     * deduplicate its result on (and its item's id is its place in the event).
     */
    private static String recordId(String eventId, String sequenceNumber) {
        if (eventId != null && !eventId.isBlank()) {
            return eventId;
        }
        return StreamCheckpoint.isSequenceNumber(sequenceNumber) ? sequenceNumber : null;
    }
}

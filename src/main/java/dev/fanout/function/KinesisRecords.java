package dev.fanout.function;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

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
 * its result on a FIFO results queue, the same on every replay.
 */
final class KinesisRecords {

    private KinesisRecords() {
    }

    static StreamEntry read(KinesisEvent.KinesisEventRecord record, int index, ItemParser parser) {
        KinesisEvent.Record kinesis = record == null ? null : record.getKinesis();
        String sequenceNumber = kinesis == null ? null : kinesis.getSequenceNumber();
        String recordId = recordId(record == null ? null : record.getEventID(), sequenceNumber);
        String id = recordId != null ? recordId : "record-" + index;
        SourceRecord source = new SourceRecord(recordId, null, Optional.empty(), null, null, null);
        if (kinesis == null) {
            return new StreamEntry(source, new ParsedItem.Malformed(id, Optional.empty(),
                    "record has no 'kinesis' member"), null);
        }
        String partitionKey = kinesis.getPartitionKey();
        Optional<String> group = partitionKey == null || partitionKey.isEmpty() ? Optional.empty()
                : Optional.of(partitionKey);
        return new StreamEntry(source, item(kinesis, id, group, sequenceNumber, parser), sequenceNumber);
    }

    private static ParsedItem item(KinesisEvent.Record kinesis, String id, Optional<String> group,
            String sequenceNumber, ItemParser parser) {
        if (!StreamCheckpoint.isSequenceNumber(sequenceNumber)) {
            return new ParsedItem.Malformed(id, group, sequenceNumber == null ? "record has no sequenceNumber"
                    : "sequenceNumber '" + sequenceNumber + "' is not a Kinesis sequence number (decimal digits)");
        }
        if (group.isEmpty()) {
            return new ParsedItem.Malformed(id, group, "record has no partitionKey");
        }
        ByteBuffer data = kinesis.getData();
        if (data == null) {
            return new ParsedItem.Malformed(id, group, "record has no data");
        }
        if (StreamEventBindings.isNotBase64(data)) {
            return new ParsedItem.Malformed(id, group, "data is not base64");
        }
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

package dev.fanout.function;

import java.util.Map;
import java.util.Optional;

import com.amazonaws.services.lambda.runtime.events.DynamodbEvent;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.AttributeValue;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.Identity;
import com.amazonaws.services.lambda.runtime.events.models.dynamodb.StreamRecord;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.batch.SourceRecord;
import dev.fanout.batch.StreamCheckpoint;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkItem;

/**
 * Reads a DynamoDB stream record as an item of the configured type ({@code fanout.streams.dynamodb-type}) whose
 * payload is the change in plain JSON ({@link AttributeValues}):
 *
 * <pre>
 * {"eventName": "MODIFY", "eventId": "...", "sequenceNumber": "113", "approximateCreationDateTime": 1764360000,
 *  "keys": {...}, "newImage": {...}, "oldImage": {...}, "expiredByTtl": false}
 * </pre>
 *
 * An image the stream's view type leaves out is absent. {@code expiredByTtl} is true for a REMOVE that DynamoDB's
 * time to live made ({@code userIdentity} {@code Service} / {@code dynamodb.amazonaws.com}). The item's group is
 * the canonical JSON of its keys (members in name order): the records of one item run in order. The record's
 * id is its {@code eventID}, unique and the same on every replay: the results' {@code sourceMessageId}, the item's
 * id, and its result's deduplication id on a FIFO results queue.
 */
final class DynamodbRecords {

    static final String TTL_PRINCIPAL = "dynamodb.amazonaws.com";

    private DynamodbRecords() {
    }

    static StreamEntry read(DynamodbEvent.DynamodbStreamRecord record, int index, Optional<String> type) {
        StreamRecord change = record == null ? null : record.getDynamodb();
        String sequenceNumber = change == null ? null : change.getSequenceNumber();
        String eventId = record == null ? null : record.getEventID();
        String recordId = eventId != null && !eventId.isBlank() ? eventId
                : StreamCheckpoint.isSequenceNumber(sequenceNumber) ? sequenceNumber : null;
        String id = recordId != null ? recordId : "record-" + index;
        SourceRecord source = new SourceRecord(recordId, null, Optional.empty(), null, null, null);
        return new StreamEntry(source, item(record, change, id, sequenceNumber, type), sequenceNumber);
    }

    private static ParsedItem item(DynamodbEvent.DynamodbStreamRecord record, StreamRecord change, String id,
            String sequenceNumber, Optional<String> type) {
        if (change == null) {
            return new ParsedItem.Malformed(id, Optional.empty(), "record has no 'dynamodb' member");
        }
        Map<String, AttributeValue> keyAttributes = change.getKeys();
        if (keyAttributes == null || keyAttributes.isEmpty()) {
            return new ParsedItem.Malformed(id, Optional.empty(), "record has no Keys");
        }
        ObjectNode keys;
        try {
            keys = AttributeValues.object(keyAttributes, "Keys");
        } catch (AttributeValues.UnreadableAttribute e) {
            return new ParsedItem.Malformed(id, Optional.empty(), e.getMessage());
        }
        Optional<String> group = Optional.of(keys.toString());
        if (!StreamCheckpoint.isSequenceNumber(sequenceNumber)) {
            return new ParsedItem.Malformed(id, group, sequenceNumber == null ? "record has no SequenceNumber"
                    : "SequenceNumber '" + sequenceNumber + "' is not a stream sequence number (decimal digits)");
        }
        if (type.isEmpty()) {
            return new ParsedItem.Malformed(id, group,
                    "no item type for DynamoDB stream records: set fanout.streams.dynamodb-type");
        }
        ObjectNode payload = JsonNodeFactory.instance.objectNode();
        payload.put("eventName", record.getEventName()).put("eventId", record.getEventID())
                .put("sequenceNumber", sequenceNumber);
        if (change.getApproximateCreationDateTime() != null) {
            payload.put("approximateCreationDateTime", change.getApproximateCreationDateTime().getTime() / 1000);
        }
        payload.set("keys", keys);
        try {
            if (change.getNewImage() != null) {
                payload.set("newImage", AttributeValues.object(change.getNewImage(), "NewImage"));
            }
            if (change.getOldImage() != null) {
                payload.set("oldImage", AttributeValues.object(change.getOldImage(), "OldImage"));
            }
        } catch (AttributeValues.UnreadableAttribute e) {
            return new ParsedItem.Malformed(id, group, e.getMessage());
        }
        payload.put("expiredByTtl", expiredByTtl(record.getUserIdentity()));
        return new ParsedItem.Valid(new WorkItem(id, type.get(), group, payload));
    }

    static boolean expiredByTtl(Identity identity) {
        return identity != null && "Service".equals(identity.getType()) && TTL_PRINCIPAL.equals(identity.getPrincipalId());
    }
}

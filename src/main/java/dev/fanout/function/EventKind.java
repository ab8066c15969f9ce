package dev.fanout.function;

import java.util.Collection;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;

import dev.fanout.batch.http.EscapedJson;

/**
 * The kind of Lambda event a payload looks like, told from its shape, and the entry point
 * ({@code QUARKUS_LAMBDA_HANDLER}) that serves it. An entry point given an event of another kind (a trigger wired
 * to the wrong function) fails the invocation with {@link #wrongFor}, instead of answering a success with no work
 * done.
 *
 * @param name    what the event is, for a message ("an API Gateway proxy event")
 * @param handler the entry point that serves it; null when no entry point of Fanout does
 */
record EventKind(String name, String handler) {

    static final EventKind SQS = new EventKind("an SQS event", "sqs");
    static final EventKind API_GATEWAY = new EventKind("an API Gateway proxy event", "http");
    static final EventKind KINESIS = new EventKind("a Kinesis stream event", "kinesis");
    static final EventKind DYNAMODB = new EventKind("a DynamoDB stream event", "dynamodb");

    /** The kind of event whose records name {@code eventSource} (the {@code eventSource} of Lambda's records). */
    static EventKind ofRecordSource(String eventSource) {
        return switch (eventSource) {
            case "aws:sqs" -> SQS;
            case "aws:kinesis" -> KINESIS;
            case "aws:dynamodb" -> DYNAMODB;
            default -> new EventKind("an event of source '" + EscapedJson.cap(eventSource, 64) + "'", null);
        };
    }

    /**
     * The kind of an event that has no {@code Records}, by its top-level fields: API Gateway sends
     * {@code requestContext} with {@code httpMethod} (payload format 1.0) or {@code routeKey} (2.0).
     */
    static EventKind ofFields(Collection<String> fields) {
        List<String> lower = fields.stream().map(f -> f.toLowerCase(Locale.ROOT)).toList();
        if (lower.contains("requestcontext") && (lower.contains("httpmethod") || lower.contains("routekey"))) {
            return API_GATEWAY;
        }
        if (fields.isEmpty()) {
            return new EventKind("an empty JSON object", null);
        }
        String names = String.join(", ", fields.stream().limit(8).map(f -> EscapedJson.cap(f, 64)).toList());
        return new EventKind("an event with no 'Records' (fields: " + names + (fields.size() > 8 ? ", ..." : "") + ")",
                null);
    }

    /**
     * The kind of an event read as JSON: by its records' source (records that name none are taken as SQS records,
     * as the SQS entry point takes them), else by its fields; null if it is no object.
     */
    static EventKind of(JsonNode event) {
        if (event == null || !event.isObject()) {
            return null;
        }
        JsonNode records = event.get("Records");
        if (records != null && records.isArray()) {
            for (JsonNode record : records) {
                JsonNode source = record.has("eventSource") ? record.get("eventSource") : record.get("EventSource"); // SNS
                if (source != null && source.isTextual()) {
                    return ofRecordSource(source.asText());
                }
            }
            return SQS; // records that name no source, or none: the SQS entry point takes them as SQS records
        }
        List<String> fields = new ArrayList<>();
        for (Iterator<String> it = event.fieldNames(); it.hasNext();) {
            fields.add(it.next());
        }
        return ofFields(fields);
    }

    /**
     * The error that ends an invocation of {@code entryPoint}, which serves {@code served}, given this kind: it says
     * what the event looks like and which entry point serves that.
     */
    WrongEventException wrongFor(String entryPoint, EventKind served) {
        String servedBy = handler == null ? "which no Fanout entry point serves"
                : "which QUARKUS_LAMBDA_HANDLER=" + handler + " serves";
        return new WrongEventException("not " + served.name + ": this looks like " + name + ", " + servedBy
                + "; this function runs QUARKUS_LAMBDA_HANDLER=" + entryPoint + " (check the trigger wired to it)");
    }

    /**
     * For the stream entry points: an event whose records name another source (an SQS event wired to
     * {@code kinesis}), or that has no {@code Records} at all (an API Gateway request), is not {@code served}'s.
     * {@code Records: []} is.
     *
     * @throws WrongEventException naming the kind the event looks like and the entry point that serves it
     */
    static <R> void requireRecordsOf(EventKind served, List<R> records, java.util.function.Function<R, String> source) {
        EventKind kind;
        if (records == null) {
            kind = new EventKind("an event with no 'Records' (an API Gateway request, say)", null);
        } else {
            kind = records.stream().filter(java.util.Objects::nonNull).map(source).filter(java.util.Objects::nonNull)
                    .map(EventKind::ofRecordSource).filter(found -> !found.equals(served)).findFirst().orElse(served);
        }
        if (!kind.equals(served)) {
            throw kind.wrongFor(served.handler(), served);
        }
    }
}

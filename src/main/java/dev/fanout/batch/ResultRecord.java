package dev.fanout.batch;

import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

import dev.fanout.engine.Cancellation;
import dev.fanout.engine.Outcome;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkItem;

/**
 * The JSON result of one item: its record's message on the results queue, and its element of an HTTP answer's
 * {@code results}, in one shape. Jackson binds it by reflection, which a native image registers in
 * {@code function/NativeReflection} (the batch layer stays free of Quarkus).
 *
 * @param sourceMessageId the SQS message id of the record (or the request's item index for HTTP)
 * @param itemId          the item's id
 * @param type            the item's type; absent when the record could not be read
 * @param status          succeeded, failed, rejected, timed_out or not_started
 * @param output          the handler's output, when it succeeded
 * @param error           what went wrong, otherwise
 * @param attempt         how often SQS has delivered the record (ApproximateReceiveCount)
 * @param startedAt       when the item started (ISO-8601), if it did
 * @param durationMs      how long it ran, if it did
 * @param batchId         the batch an HTTP request queued the item in ({@code Prefer: respond-async}), if it did
 * @param itemIndex       the item's index in that request
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ResultRecord(String sourceMessageId, String itemId, String type, String status, JsonNode output,
        Error error, Integer attempt, String startedAt, Long durationMs, String batchId, Integer itemIndex) {

    public ResultRecord(String sourceMessageId, String itemId, String type, String status, JsonNode output,
            Error error, Integer attempt, String startedAt, Long durationMs) {
        this(sourceMessageId, itemId, type, status, output, error, attempt, startedAt, durationMs, null, null);
    }

    /** An error: the exception's simple class name or a Fanout kind, its message, and whether a retry may help. */
    public record Error(String type, String message, boolean retryable) {
    }

    public static String status(Outcome.Status status) {
        return status.name().toLowerCase(Locale.ROOT);
    }

    public static ResultRecord of(String sourceMessageId, ParsedItem item, Outcome<JsonNode> outcome, Integer attempt) {
        String type = item instanceof ParsedItem.Valid(WorkItem work) ? work.type() : null;
        String startedAt = outcome.timing().map(t -> t.startedAt().toString()).orElse(null);
        Long durationMs = outcome.timing().map(t -> t.duration().toMillis()).orElse(null);
        JsonNode output = null;
        Error error = switch (outcome) {
            case Outcome.Succeeded<JsonNode> succeeded -> {
                output = succeeded.value();
                yield null;
            }
            case Outcome.Failed<JsonNode> failed -> new Error(failed.error().getClass().getSimpleName(),
                    failed.error().getMessage() == null ? failed.error().toString() : failed.error().getMessage(),
                    failed.retryable());
            case Outcome.Rejected<JsonNode> rejected -> new Error("Rejected", rejected.reason(), false);
            case Outcome.TimedOut<JsonNode> timedOut -> new Error("TimedOut",
                    "cancelled at " + (timedOut.cause() == Cancellation.Cause.CUT_OFF
                            ? "the invocation's cut-off" : "its item timeout"), true);
            case Outcome.NotStarted<JsonNode> notStarted -> new Error("NotStarted", switch (notStarted.reason()) {
                case CUT_OFF -> "the invocation's cut-off came first";
                case GROUP_HALTED -> "an earlier item of its group did not succeed";
                case NOT_ADMITTED -> "no permit of its downstream service came before its deadline";
            }, true);
        };
        return new ResultRecord(sourceMessageId, item.id(), type, status(outcome.status()), output, error, attempt,
                startedAt, durationMs);
    }

    /** The same record with its output replaced by an error that says why it could not be sent. */
    public ResultRecord withError(String errorType, String message) {
        return withError(new Error(errorType, message, false));
    }

    /** The same record, failed with {@code error}, without its output. */
    public ResultRecord withError(Error error) {
        return new ResultRecord(sourceMessageId, itemId, type, status(Outcome.Status.FAILED), null, error, attempt,
                startedAt, durationMs, batchId, itemIndex);
    }

    /** The same record, marked as the result of item {@code index} of the queued batch {@code batchId}. */
    public ResultRecord inBatch(String batchId, Integer index) {
        return new ResultRecord(sourceMessageId, itemId, type, status, output, error, attempt, startedAt, durationMs,
                batchId, index);
    }
}

package dev.fanout.batch;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.engine.Outcome;
import dev.fanout.fanin.ResultMessage;

/**
 * A record's result as a message for the results queue: its JSON ({@link ResultJson}; when Jackson cannot write its
 * output, the error result of {@link FallbackResult}), its attributes, its FIFO keys, and its substitution, which
 * says what goes out instead when the sink finds the message over the queue's limit (the same result with its
 * output dropped, {@code OutputTooLarge}) or SQS refuses it (the minimal {@link RefusedResult}).
 */
public final class ResultMessages {

    /** The result's status, so that consumers can filter on it. */
    public static final String STATUS_ATTRIBUTE = "status";
    /** The invocation's X-Ray trace id on each result: one record can be followed from its event to its result. */
    public static final String TRACE_ATTRIBUTE = "traceId";

    /** A result's message group and deduplication id on a FIFO results queue. */
    public record FifoKeys(String group, String deduplicationId) {
    }

    private static final int MAX_GROUP_ID = 128;

    /**
     * {@code group} as a MessageGroupId SQS accepts: itself when it is 1 to 128 characters from '!' to '~', else
     * {@code "sha256-"} and the first 32 hex digits of its UTF-8 SHA-256 (a stream's partition key may be 256
     * characters of any kind; an item's keys, any JSON). Two groups that share a digest share a results group:
     * their results stay in order, only less parallel.
     */
    public static String groupId(String group) {
        if (!group.isEmpty() && group.length() <= MAX_GROUP_ID && group.chars().allMatch(c -> c > 0x20 && c < 0x7F)) {
            return group;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(group.getBytes(StandardCharsets.UTF_8));
            return "sha256-" + HexFormat.of().formatHex(digest, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private final ResultJson writer;

    public ResultMessages(ObjectMapper mapper) {
        this.writer = new ResultJson(mapper);
    }

    /**
     * The substitution of a result that carries nothing but its record's id: the minimal error result when SQS
     * refuses it, and no smaller form (over the limit, it is replaced by the minimal error result too).
     */
    public static ResultMessage.Substitution substitution(String recordId) {
        return new ResultMessage.Substitution() {
            @Override
            public Optional<ResultMessage.Substitute> refused(String reason) {
                return Optional.of(minimal(recordId, reason));
            }

            @Override
            public Optional<ResultMessage.Substitute> withinLimit(int size, int limit) {
                return Optional.empty();
            }
        };
    }

    /** The minimal error result ({@link RefusedResult}) and its status attribute. */
    private static ResultMessage.Substitute minimal(String recordId, String reason) {
        return new ResultMessage.Substitute(RefusedResult.body(recordId, reason),
                Map.of(STATUS_ATTRIBUTE, ResultRecord.status(Outcome.Status.FAILED)));
    }

    /** The message of {@code result}; {@code keys} null for a standard results queue. */
    public ResultMessage message(ResultRecord result, FifoKeys keys, Optional<String> traceId) {
        ResultMessage.Substitute written = write(result, traceId);
        return new ResultMessage(written.body(), written.attributes(), Optional.ofNullable(keys).map(FifoKeys::group),
                Optional.ofNullable(keys).map(FifoKeys::deduplicationId), Optional.of(new Substitution(result, traceId)));
    }

    /** The body, and the attributes with the status the body says (failed for the hand-written error result). */
    private ResultMessage.Substitute write(ResultRecord result, Optional<String> traceId) {
        String body;
        String status = result.status();
        try {
            body = writer.writeForMessage(result); // made SQS-valid by ResultMessage, in one pass
        } catch (JsonProcessingException | RuntimeException e) {
            // one unwritable result (an output too deep, a type without reflection data in a native image) must not
            // fail the batch: its record gets an error result written by hand, which cannot fail in turn
            status = ResultRecord.status(Outcome.Status.FAILED);
            body = FallbackResult.of(result, "OutputNotWritable", "the result could not be written as JSON: "
                    + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.toString()));
        }
        Map<String, String> attributes = new HashMap<>();
        attributes.put(STATUS_ATTRIBUTE, status);
        traceId.ifPresent(id -> attributes.put(TRACE_ATTRIBUTE, id));
        return new ResultMessage.Substitute(body, QueuedBatch.attributes(result, attributes));
    }

    /**
     * What replaces a record's result: over the limit, the same result with an {@code OutputTooLarge} error
     * instead of its output; refused by SQS, the minimal error result, for a record that has an id to name.
     */
    private final class Substitution implements ResultMessage.Substitution {
        private final ResultRecord result;
        private final Optional<String> traceId;

        Substitution(ResultRecord result, Optional<String> traceId) {
            this.result = result;
            this.traceId = traceId;
        }

        @Override
        public Optional<ResultMessage.Substitute> refused(String reason) {
            return Optional.ofNullable(result.sourceMessageId()).map(id -> minimal(id, reason));
        }

        @Override
        public Optional<ResultMessage.Substitute> withinLimit(int size, int limit) {
            ResultRecord smaller = result.withError("OutputTooLarge", "the result is " + size
                    + " bytes, more than the results queue's " + limit
                    + "-byte message limit; the output was dropped, not truncated");
            return Optional.of(write(smaller, traceId));
        }
    }
}

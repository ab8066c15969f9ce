package dev.fanout.batch;

import java.math.BigInteger;
import java.util.List;

/**
 * Where Lambda resumes a stream batch (Kinesis, DynamoDB Streams) with {@code ReportBatchItemFailures}: the
 * response names one sequence number, Lambda checkpoints just before it and delivers that record and every
 * later record of the shard again. So the answer names the lowest sequence number among the records that are
 * not done, and only that one: everything before it is done, and everything after it comes again anyway.
 * <p>
 * A record that is not done but has no sequence number (Lambda's events always carry one) cannot be named:
 * the answer is then the whole batch, which Lambda signals with an empty item identifier.
 */
public final class StreamCheckpoint {

    /** What the response says. */
    public sealed interface Checkpoint {
    }

    /** Every record is done: no batch item failure. */
    public record Done() implements Checkpoint {
    }

    /** Lambda resumes at this record. */
    public record At(String sequenceNumber) implements Checkpoint {
    }

    /** Every record of the batch comes again, for this reason. */
    public record WholeBatch(String reason) implements Checkpoint {
    }

    private StreamCheckpoint() {
    }

    /**
     * @param done            for each record, whether it is done (its outcome final and its result confirmed)
     * @param sequenceNumbers each record's sequence number, as the event has it (null if it has none)
     */
    public static Checkpoint of(boolean[] done, List<String> sequenceNumbers) {
        if (done.length != sequenceNumbers.size()) {
            throw new IllegalArgumentException(done.length + " records but " + sequenceNumbers.size()
                    + " sequence numbers");
        }
        String lowest = null;
        BigInteger lowestValue = null;
        for (int i = 0; i < done.length; i++) {
            if (done[i]) {
                continue;
            }
            String sequenceNumber = sequenceNumbers.get(i);
            if (!isSequenceNumber(sequenceNumber)) {
                return new WholeBatch("record " + i + " is not done and has no sequence number to resume at");
            }
            BigInteger value = new BigInteger(sequenceNumber);
            if (lowestValue == null || value.compareTo(lowestValue) < 0) {
                lowest = sequenceNumber;
                lowestValue = value;
            }
        }
        return lowest == null ? new Done() : new At(lowest);
    }

    /** Kinesis and DynamoDB Streams sequence numbers are decimal digits (up to 128 of them). */
    public static boolean isSequenceNumber(String s) {
        return s != null && !s.isEmpty() && s.length() <= 128 && s.chars().allMatch(c -> c >= '0' && c <= '9');
    }
}

package dev.fanout.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.fanout.engine.Deadline;
import dev.fanout.fanin.Delivery;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.fanin.ResultStream;
import dev.fanout.fanin.ResultsSink;

/**
 * A work queue in memory for queued mode: it records each call's messages and takes every message but those at
 * the refused positions of a call ({@code "throttled at <position>"}); a taken message's id is
 * {@code "msg-<position>"}. Each call reports 4 requests and 3 retries.
 */
public final class RecordingQueue implements ResultsSink {

    private final List<List<ResultMessage>> calls = new ArrayList<>();
    private final List<Integer> refusedPositions;

    public RecordingQueue(Integer... refusedPositions) {
        this.refusedPositions = Arrays.asList(refusedPositions);
    }

    /** Each call's messages, in call order. */
    public List<List<ResultMessage>> calls() {
        return calls;
    }

    @Override
    public Delivery deliver(List<ResultMessage> messages, Deadline deadline) {
        calls.add(List.copyOf(messages));
        List<String> failures = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int m = 0; m < messages.size(); m++) {
            boolean refused = refusedPositions.contains(m);
            failures.add(refused ? "throttled at " + m : null);
            ids.add(refused ? null : "msg-" + m);
        }
        return new Delivery(failures, 4, 3, 0, ids);
    }

    @Override
    public ResultStream open(int capacity, Deadline deadline) {
        throw new AssertionError("queued mode sends its messages at once");
    }
}

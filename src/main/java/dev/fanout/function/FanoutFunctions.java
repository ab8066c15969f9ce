package dev.fanout.function;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;

import dev.fanout.engine.Deadline;
import io.quarkus.funqy.Context;
import io.quarkus.funqy.Funq;
import jakarta.inject.Inject;

/**
 * The bundle's functions, as Funqy functions. Funqy's own Lambda binding cannot serve them: it drops
 * the Lambda Context and with it the invocation's deadline. The quarkus-amazon-lambda handlers in this
 * package ({@link SqsFunction}) carry the Context through and call these with the deadline it gives.
 */
public class FanoutFunctions {

    @Inject
    SqsBatchProcessor sqsBatches;

    /** An SQS event source mapping's batch: the partial batch response. */
    @Funq("sqs")
    public SQSBatchResponse sqs(SQSEvent event, @Context Deadline deadline) {
        return sqsBatches.process(event, deadline).response();
    }
}

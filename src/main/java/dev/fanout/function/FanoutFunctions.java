package dev.fanout.function;

import java.util.Optional;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;

import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.engine.Deadline;
import io.quarkus.funqy.Context;
import io.quarkus.funqy.Funq;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;

/**
 * The bundle's functions, as Funqy functions. Funqy's own Lambda binding cannot serve them: it drops
 * the Lambda Context and with it the invocation's deadline. The quarkus-amazon-lambda handlers in this
 * package ({@link SqsFunction}, {@link HttpFunction}) carry the Context through and call these with the deadline it gives.
 */
public class FanoutFunctions {

    // looked up on first use: a deployment of one entry point never builds what only the other needs
    @Inject
    Instance<SqsBatchProcessor> sqsBatches;

    @Inject
    Instance<HttpBatchProcessor> httpBatches;

    /** An SQS event source mapping's batch: the partial batch response. */
    @Funq("sqs")
    public SQSBatchResponse sqs(SQSEvent event, @Context Deadline deadline) {
        return sqs(event, deadline, Optional.empty());
    }

    /** The same, with the invocation's X-Ray trace id for the results. */
    public SQSBatchResponse sqs(SQSEvent event, Deadline deadline, Optional<String> traceId) {
        return sqsBatches.get().process(event, deadline, traceId).response();
    }

    /**
     * A batch in an HTTP request through API Gateway (the proxy event's bytes, payload format 1.0 or 2.0):
     * per-item results in input order, or the batch queued, or a problem.
     */
    @Funq("http")
    public HttpAnswer http(byte[] event, @Context Deadline deadline) {
        return httpBatches.get().process(event, deadline);
    }
}

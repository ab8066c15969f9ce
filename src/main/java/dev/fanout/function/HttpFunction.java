package dev.fanout.function;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Named;

/**
 * The API Gateway entry point ({@code QUARKUS_LAMBDA_HANDLER=http}): turns the invocation's Context into a
 * deadline and hands the proxy event's bytes to the {@link HttpBatchProcessor}. A stream handler, because the
 * event's payload format (1.0 or 2.0) is told from the event itself, and because the answer's size is counted
 * in the bytes written here, which Lambda holds to its response limit.
 */
@Named("http")
public class HttpFunction implements RequestStreamHandler {

    // looked up on first use: a deployment of the other entry point never builds it
    @Inject
    Instance<HttpBatchProcessor> batches;

    @Inject
    FanoutConfig config;

    @Override
    public void handleRequest(InputStream event, OutputStream response, Context context) throws IOException {
        try (InvocationLog log = InvocationLog.open(context)) {
            batches.get().process(event.readAllBytes(), InvocationDeadline.of(context, config.fallbackTimeout()))
                    .writeTo(response);
        }
    }
}

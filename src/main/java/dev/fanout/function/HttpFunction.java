package dev.fanout.function;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;

import jakarta.inject.Inject;
import jakarta.inject.Named;

/**
 * The API Gateway (HTTP API) entry point ({@code QUARKUS_LAMBDA_HANDLER=http}): turns the invocation's
 * Context into a deadline and calls the {@code http} function.
 */
@Named("http")
public class HttpFunction implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {

    @Inject
    FanoutFunctions functions;

    @Inject
    FanoutConfig config;

    @Override
    public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent request, Context context) {
        try (InvocationLog log = InvocationLog.open(context)) {
            return functions.http(request, InvocationDeadline.of(context, config.fallbackTimeout()));
        }
    }
}

package dev.fanout.function;

import dev.fanout.testing.ElasticMq;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Alternative;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * For a {@code @QuarkusTest} whose profile selects it ({@code getEnabledAlternatives}): the function's SQS client
 * pointed at {@code fanout.results.endpoint} with ElasticMQ's static credentials, since the function's own
 * credentials come from environment variables a test JVM does not have.
 */
@Alternative
@ApplicationScoped
public class ElasticMqSqsClient {

    @Produces
    @Singleton
    SqsClient sqsClient(FanoutConfig config) {
        return ElasticMq.client(config.results().endpoint().orElseThrow());
    }
}

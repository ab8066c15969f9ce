package dev.fanout.function.idempotency;

import java.net.URI;
import java.util.Optional;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Builds the idempotency store's DynamoDB client, when the first idempotent item comes. A bean, so that a test
 * profile can give the client credentials of its own (Lambda's credential chain reads only what Lambda sets).
 */
@FunctionalInterface
public interface DynamoDbClients {

    DynamoDbClient build(String region, Optional<URI> endpoint);
}

package dev.fanout.startup;

import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.ContainerCredentialsProvider;
import software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider;

/**
 * The credentials a Lambda function is given, and nothing else: the function role's keys in environment
 * variables on an on-demand start, the container credentials endpoint under SnapStart (Lambda sets
 * {@code AWS_CONTAINER_CREDENTIALS_FULL_URI} and {@code AWS_CONTAINER_AUTHORIZATION_TOKEN} there instead of
 * the keys). The SDK's default chain finds the same two, but also builds what a Lambda function never has
 * (system properties, web identity, profile files, SSO, the EC2 instance metadata), at every start.
 */
public final class LambdaCredentials {

    private LambdaCredentials() {
    }

    /**
     * Environment variables first, then the container endpoint. The chain remembers the link that answered,
     * and the endpoint's credentials are cached until shortly before they expire.
     */
    public static AwsCredentialsProviderChain chain() {
        return AwsCredentialsProviderChain.builder().reuseLastProviderEnabled(true)
                .credentialsProviders(EnvironmentVariableCredentialsProvider.create(),
                        ContainerCredentialsProvider.builder().build())
                .build();
    }
}

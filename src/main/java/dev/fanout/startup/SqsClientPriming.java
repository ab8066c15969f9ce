package dev.fanout.startup;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import dev.fanout.fanin.ResultMessage;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.AbortableInputStream;
import software.amazon.awssdk.http.ExecutableHttpRequest;
import software.amazon.awssdk.http.HttpExecuteRequest;
import software.amazon.awssdk.http.HttpExecuteResponse;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;

/**
 * The SQS entry point's client path, loaded on a priming thread while Quarkus starts: about 1,400 AWS SDK
 * classes (the client, the endpoint rules, signing, the JSON protocol, the response checks) that the init's
 * warm-up call would otherwise load after Quarkus's own start. A client of its own, with fixed credentials
 * and an HTTP client that answers in process ({@link AnswerInProcess}), sends one SendMessageBatch of one
 * entry and one ChangeMessageVisibilityBatch, and reads SQS's answers (with the digests of the entry's body
 * and attribute, which the client checks). The real client and the real warm-up call, with its hard time
 * limit, come later and find their classes loaded.
 */
public final class SqsClientPriming {

    static final String BODY = "fanout-priming";
    /** A string attribute, as every result message carries (its status). */
    static final Map<String, String> ATTRIBUTES = Map.of("status", "succeeded");

    private SqsClientPriming() {
    }

    /** One SendMessageBatch and one ChangeMessageVisibilityBatch through the whole client path, answered in process. */
    public static SendMessageBatchResponse prime() {
        SendMessageBatchResponse answer;
        try (SqsClient client = SqsClient.builder()
                .httpClient(new AnswerInProcess())
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create("https://sqs.us-east-1.amazonaws.com"))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("priming", "priming")))
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build()) {
            answer = client.sendMessageBatch(r -> r.queueUrl(InProcessQueue.QUEUE_URL)
                    .entries(e -> e.id("0").messageBody(BODY).messageAttributes(attributeValues())));
            // the redelivery's request (a handed-back record's backoff) on the same path: its marshaller and the
            // answer's reading, which the first event with a handed-back record would otherwise load
            client.changeMessageVisibilityBatch(r -> r.queueUrl(InProcessQueue.QUEUE_URL)
                    .entries(e -> e.id("0").receiptHandle("priming").visibilityTimeout(0)));
        }
        // then the real client's HTTP client (its TLS context: the JDK's trust store) and credentials chain,
        // built and closed (the chain resolves nothing until asked). Last, not first: the request path above is
        // the larger part of the init's warm-up call, and the TLS context, which the real client needs when it
        // is built, takes one lock that the main thread waits on rather than build it a second time
        UrlConnectionHttpClient.builder().build().close();
        LambdaCredentials.chain().close();
        return answer;
    }

    /** The attributes as the fan-in sends them ({@link ResultMessage}): the first result's attributes find their path loaded. */
    static Map<String, MessageAttributeValue> attributeValues() {
        return new ResultMessage(BODY, ATTRIBUTES, Optional.empty(), Optional.empty()).sqsAttributes();
    }

    /** The hex MD5 of a message body, as SQS reports it ({@code MD5OfMessageBody}). */
    static String bodyDigest(String body) {
        return HexFormat.of().formatHex(md5().digest(body.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * The hex MD5 of string attributes, as SQS reports it ({@code MD5OfMessageAttributes}): for each attribute in
     * the order of its name, the name, the data type and the value, each as a 4-byte big-endian length and its
     * UTF-8 bytes, with the transport type (1, a string) between the type and the value.
     */
    static String attributesDigest(Map<String, String> attributes) {
        var bytes = new ByteArrayOutputStream();
        try (var out = new DataOutputStream(bytes)) {
            for (var attribute : new TreeMap<>(attributes).entrySet()) {
                lengthPrefixed(out, attribute.getKey());
                lengthPrefixed(out, "String");
                out.writeByte(1);
                lengthPrefixed(out, attribute.getValue());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HexFormat.of().formatHex(md5().digest(bytes.toByteArray()));
    }

    private static void lengthPrefixed(DataOutputStream out, String text) throws IOException {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has MD5", e);
        }
    }

    /**
     * Answers every request as SQS answers a SendMessageBatch of the priming entry (its digests computed as SQS
     * computes them), after reading its body. A ChangeMessageVisibilityBatch reads the same answer: its
     * {@code Successful} entry carries the same id.
     */
    static final class AnswerInProcess implements SdkHttpClient {

        static final byte[] ANSWER = ("{\"Successful\":[{\"Id\":\"0\",\"MessageId\":\"00000000-0000-0000-0000-000000000000\","
                + "\"MD5OfMessageBody\":\"" + bodyDigest(BODY) + "\",\"MD5OfMessageAttributes\":\""
                + attributesDigest(ATTRIBUTES) + "\"}],\"Failed\":[]}").getBytes(StandardCharsets.UTF_8);

        @Override
        public ExecutableHttpRequest prepareRequest(HttpExecuteRequest request) {
            return new ExecutableHttpRequest() {
                @Override
                public HttpExecuteResponse call() {
                    request.contentStreamProvider().ifPresent(body -> {
                        try (InputStream in = body.newStream()) {
                            in.transferTo(OutputStream.nullOutputStream());
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    });
                    return HttpExecuteResponse.builder()
                            .response(SdkHttpResponse.builder().statusCode(200)
                                    .putHeader("Content-Type", "application/x-amz-json-1.0")
                                    .putHeader("Content-Length", Integer.toString(ANSWER.length)).build())
                            .responseBody(AbortableInputStream.create(new ByteArrayInputStream(ANSWER)))
                            .build();
                }

                @Override
                public void abort() {
                    // answered in process: nothing to abort
                }
            };
        }

        @Override
        public String clientName() {
            return "FanoutPriming";
        }

        @Override
        public void close() {
            // nothing held
        }
    }
}

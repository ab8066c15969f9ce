package dev.fanout.testing;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/**
 * An embedded ElasticMQ: a real SQS-compatible server on a free loopback port.
 * <p>
 * Unit tests share one server per JVM ({@link #shared()}): its start costs about a second, and PIT runs
 * each test on its own, once per mutant, so a server per test class would start for every run of every
 * test. Sharing is safe because {@link #createQueue} makes a new queue at each call.
 */
public final class ElasticMq implements AutoCloseable {

    public static final String REGION = "us-east-1";
    public static final String ACCESS_KEY = "fanout-local";
    public static final String SECRET_KEY = "fanout-local";

    private final SQSRestServer server;
    private final URI endpoint;
    private final SqsClient client;
    private final boolean shared;
    private final AtomicInteger queues = new AtomicInteger();

    private ElasticMq(SQSRestServer server, int port, boolean shared) {
        this.server = server;
        this.endpoint = URI.create("http://127.0.0.1:" + port);
        this.client = client(endpoint);
        this.shared = shared;
    }

    /** A server of the caller's own, stopped by {@link #close()}. */
    public static ElasticMq start() {
        return start(false);
    }

    /**
     * The JVM's shared server, started at the first call (a test class's static initialiser, so that PIT's
     * discovery of a class starts it, not the first test's time limit). It lives until the JVM exits:
     * {@link #close()} leaves it running.
     */
    public static ElasticMq shared() {
        return Shared.SERVER;
    }

    private static final class Shared {
        static final ElasticMq SERVER = start(true);
    }

    static ElasticMq start(boolean shared) {
        SQSRestServer server = SQSRestServerBuilder.withPort(0).withInterface("127.0.0.1").start();
        int port = server.waitUntilStarted().localAddress().getPort();
        return new ElasticMq(server, port, shared);
    }

    /** A client like the function's: one attempt per call, URL-connection HTTP. */
    public static SqsClient client(URI endpoint) {
        return SqsClient.builder()
                .endpointOverride(endpoint)
                .region(Region.of(REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(30)).build())
                .overrideConfiguration(o -> o.retryStrategy(
                        software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry()))
                .build();
    }

    public URI endpoint() {
        return endpoint;
    }

    public SqsClient client() {
        return client;
    }

    /**
     * Creates a new, empty queue whose name starts with {@code name} and ends with a number of its own (a
     * FIFO queue keeps its {@code .fifo}): a test run again in the same JVM, as PIT does, never finds the
     * messages of an earlier run.
     */
    public String createQueue(String name) {
        boolean fifo = name.endsWith(".fifo");
        String unique = (fifo ? name.substring(0, name.length() - ".fifo".length()) : name) + "-"
                + queues.incrementAndGet() + (fifo ? ".fifo" : "");
        Map<QueueAttributeName, String> attributes = fifo ? Map.of(QueueAttributeName.FIFO_QUEUE, "true") : Map.of();
        return client.createQueue(r -> r.queueName(unique).attributes(attributes)).queueUrl();
    }

    /** One attribute of a queue, as SQS reports it. */
    public static String attribute(SqsClient client, String queueUrl, QueueAttributeName name) {
        return client.getQueueAttributes(r -> r.queueUrl(queueUrl).attributeNames(name)).attributes().get(name);
    }

    /** Messages visible on the queue (ElasticMQ's count is exact). */
    public int depth(String queueUrl) {
        return Integer.parseInt(attribute(client, queueUrl, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES));
    }

    /**
     * Receives everything on the queue, with all attributes. Received messages stay invisible for five
     * minutes (FIFO ones are deleted), so each is returned once; each queue is a test's own.
     */
    public List<Message> drain(String queueUrl) {
        List<Message> all = new ArrayList<>();
        while (true) {
            ReceiveMessageResponse response = client.receiveMessage(r -> r.queueUrl(queueUrl).maxNumberOfMessages(10)
                    .waitTimeSeconds(0).visibilityTimeout(300).messageAttributeNames("All")
                    .messageSystemAttributeNamesWithStrings("All"));
            if (!response.hasMessages() || response.messages().isEmpty()) {
                return all;
            }
            all.addAll(response.messages());
            if (queueUrl.endsWith(".fifo")) {
                // a FIFO queue hands out no more of a group while some of it is in flight
                client.deleteMessageBatch(r -> r.queueUrl(queueUrl).entries(response.messages().stream()
                        .map(m -> DeleteMessageBatchRequestEntry.builder().id(m.messageId())
                                .receiptHandle(m.receiptHandle()).build())
                        .toList()));
            }
        }
    }

    /** Stops a server of the caller's own; the shared one keeps running for the JVM's other tests. */
    @Override
    public void close() {
        if (!shared) {
            stop();
        }
    }

    void stop() {
        client.close();
        server.stopAndWait();
    }
}

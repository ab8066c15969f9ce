package dev.fanout.function;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.batch.http.HttpAnswer;
import dev.fanout.batch.http.RequestBatch;
import dev.fanout.engine.Limits;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.builtin.DelayFunction;
import dev.fanout.work.builtin.DigestFunction;
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
 * Loads and links what the first event needs on threads of their own while Quarkus starts on the main
 * thread, which would otherwise load it all one class after the other: Quarkus's start is mostly
 * single-threaded, and this machine has two cores (on Lambda, a function of more than 1,769 MB has more
 * than one vCPU). Two jobs, neither of which needs configuration or touches the network:
 * <ul>
 * <li>the SQS entry point's client path ({@link #primeSqsClient()}): about 1,400 AWS SDK classes (the
 * client, the endpoint rules, signing, the JSON protocol, the response checks) that the init warm-up
 * ({@code Warmup}) would otherwise load after Quarkus's own start. A client of its own, with fixed
 * credentials and an HTTP client that answers in process, sends one SendMessageBatch of one entry and
 * reads a canned answer (with the MD5s of the entry's body and attribute, which the client checks). The
 * real client ({@code Wiring}) and the real warm-up call, with its hard time limit, come later as before
 * and find their classes loaded;</li>
 * <li>the batch path ({@link #primeBatchPath(String)}): SnapStart's priming run ({@link SnapStartHooks#prime()})
 * on plain objects of its own (a mapper, the built-in handlers, the engine, for SQS the fan-in to a client in
 * process, the HTTP entry point's answer), so that Jackson, the engine, the fan-in and virtual threads are
 * loaded before the first event.</li>
 * </ul>
 * Started by {@link FanoutStreamHandler}'s constructor, the first code of Fanout's that Lambda runs (on the
 * JVM; a native build has its own poll loop and primes nothing). Priming only saves time: a job that fails
 * is reported by the start-up log and changes nothing else.
 */
final class StartPriming {

    static final String QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/000000000000/fanout-priming";
    static final String BODY = "fanout-priming";
    /** MD5 of {@link #BODY}, as SQS would report it. */
    static final String BODY_MD5 = "cc047f5391b07b1bdb0cfc40a8952d04";
    /** A string attribute, as every result message carries (its status), and its MD5 as SQS would report it. */
    static final Map<String, String> ATTRIBUTES = Map.of("status", "succeeded");
    static final String ATTRIBUTES_MD5 = "a69ee25b1039fdad08871ade0858365d";

    /** The jobs started, by thread name; each runs once per JVM. */
    private static final Map<String, Thread> STARTED = new ConcurrentHashMap<>();
    private static final Map<String, Throwable> FAILURES = new ConcurrentHashMap<>();

    private StartPriming() {
    }

    /**
     * What the handler starts: the entry point's jobs, unless priming is switched off
     * ({@link FanoutConfig#startPriming()}) or the JVM has a single processor, where the jobs would only take
     * turns with Quarkus's start.
     */
    static List<Thread> start() {
        if (!enabled() || Runtime.getRuntime().availableProcessors() < 2) {
            return List.of();
        }
        return startFor(entryPoint());
    }

    /**
     * Read before Quarkus starts, as Quarkus will read {@code fanout.start-priming}: the system property, else
     * the environment variable {@code FANOUT_START_PRIMING}, else on.
     */
    static boolean enabled() {
        String property = System.getProperty("fanout.start-priming");
        String value = property != null ? property : System.getenv("FANOUT_START_PRIMING");
        return value == null || !value.trim().equalsIgnoreCase("false");
    }

    /**
     * Starts the jobs the entry point needs, once: both for {@code sqs}, {@code kinesis} and {@code dynamodb}
     * (whose results go out through the same client), the batch path for {@code http} (its queued mode's
     * client is built at init by {@code Warmup}), none for anything else.
     */
    static List<Thread> startFor(String entryPoint) {
        // what Quarkus's generated application sets as it starts: the jobs may log (the SDK through SLF4J) before
        // it does, and the first use of java.util.logging would otherwise fix the JDK's own log manager for good
        System.setProperty("java.util.logging.manager", "org.jboss.logmanager.LogManager");
        List<Thread> threads = new ArrayList<>();
        if ("sqs".equals(entryPoint) || StreamPriming.covers(entryPoint)) {
            threads.add(start("fanout-sqs-client-priming", StartPriming::primeSqsClient));
        }
        if ("sqs".equals(entryPoint) || "http".equals(entryPoint) || StreamPriming.covers(entryPoint)) {
            threads.add(start("fanout-batch-path-priming", () -> primeBatchPath(entryPoint)));
        }
        return threads;
    }

    private static Thread start(String name, Runnable job) {
        return STARTED.computeIfAbsent(name, n -> Thread.ofPlatform().daemon().name(n).start(() -> {
            try {
                job.run();
            } catch (Throwable t) {
                FAILURES.put(n, t);
            }
        }));
    }

    /**
     * The entry point as Quarkus will read it: the system property {@code quarkus.lambda.handler}, else the
     * environment variable {@code QUARKUS_LAMBDA_HANDLER}, else {@code sqs} (application.properties).
     */
    static String entryPoint() {
        String property = System.getProperty("quarkus.lambda.handler");
        if (property != null) {
            return property;
        }
        String variable = System.getenv("QUARKUS_LAMBDA_HANDLER");
        return variable != null ? variable : "sqs";
    }

    /**
     * Waits, at most {@code limit} in all, for the jobs started to end: SnapStart's snapshot is better taken
     * with the priming done than in the middle of it.
     *
     * @return whether every job ended
     */
    static boolean await(Duration limit) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        for (Thread thread : STARTED.values()) {
            if (!thread.join(Duration.ofNanos(Math.max(0, end - System.nanoTime())))) {
                return false;
            }
        }
        return true;
    }

    /** The jobs that failed, by thread name, with what went wrong (for the start-up log). */
    static Map<String, Throwable> failures() {
        return Map.copyOf(FAILURES);
    }

    /** SnapStart's priming run on objects of its own: nothing here is shared with the beans Quarkus builds. */
    static SnapStartHooks.Priming primeBatchPath(String entryPoint) {
        // with the modules on the class path, as Quarkus's mappers have them (Joda-Time, java.time, Optional)
        var mapper = new ObjectMapper().findAndRegisterModules();
        var handlers = ItemFunctions.builder(mapper).add(new DigestFunction(DIGEST_ROUNDS))
                .add(new DelayFunction(Duration.ofSeconds(1))).build();
        var parser = new ItemParser(mapper, Optional.empty());
        var pool = new WorkerPool(Limits.of(SnapStartHooks.PRIMING_ITEMS.size()));
        var settings = new RequestBatch.Settings(Duration.ofSeconds(29), SnapStartHooks.PRIMING_ITEMS.size(),
                HttpAnswer.LAMBDA_RESPONSE_LIMIT, SnapStartHooks.PRIMING_ITEMS.size());
        var httpBatches = new HttpBatchProcessor(pool, handlers, parser, mapper, settings, Optional.empty());
        return new SnapStartHooks(entryPoint, () -> null, Optional::empty, () -> httpBatches, pool, handlers, parser,
                mapper).prime();
    }

    /** More than the priming digest asks for (2 rounds). */
    static final int DIGEST_ROUNDS = 16;

    /** One SendMessageBatch through the whole client path, answered in process. */
    static SendMessageBatchResponse primeSqsClient() {
        SendMessageBatchResponse answer;
        try (SqsClient client = SqsClient.builder()
                .httpClient(new CannedAnswer())
                .region(Region.US_EAST_1)
                .endpointOverride(URI.create("https://sqs.us-east-1.amazonaws.com"))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("priming", "priming")))
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build()) {
            answer = client.sendMessageBatch(r -> r.queueUrl(QUEUE_URL).entries(e -> e.id("0").messageBody(BODY)
                    .messageAttributes(attributeValues())));
            // the redelivery's request (a handed-back record's backoff) on the same path: its marshaller and the
            // answer's reading, which the first event with a handed-back record would otherwise load
            client.changeMessageVisibilityBatch(r -> r.queueUrl(QUEUE_URL)
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

    /** Answers every request as SQS answers a SendMessageBatch of the priming entry, after reading its body. */
    static final class CannedAnswer implements SdkHttpClient {

        static final byte[] ANSWER = ("{\"Successful\":[{\"Id\":\"0\",\"MessageId\":\"00000000-0000-0000-0000-000000000000\","
                + "\"MD5OfMessageBody\":\"" + BODY_MD5 + "\",\"MD5OfMessageAttributes\":\"" + ATTRIBUTES_MD5 + "\"}],"
                + "\"Failed\":[]}").getBytes(StandardCharsets.UTF_8);

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

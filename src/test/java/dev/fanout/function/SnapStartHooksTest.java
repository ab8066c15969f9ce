package dev.fanout.function;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

import dev.fanout.batch.http.RequestBatch;
import dev.fanout.engine.Batch;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.WorkerPool;
import dev.fanout.fanin.ResultMessage;
import dev.fanout.fanin.SqsResultsSink;
import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.JacksonBindings;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.limits.LimitAlgorithm;
import dev.fanout.work.limits.LimitSettings;
import dev.fanout.work.limits.ServiceLimits;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.WorkItem;
import dev.fanout.work.builtin.DelayFunction;
import dev.fanout.work.builtin.DigestFunction;
import dev.fanout.work.http.HttpCallFunction;
import dev.fanout.work.http.HttpSettings;
import software.amazon.awssdk.services.sqs.SqsClient;

/** SnapStart's hooks, called directly as Lambda's runtime calls them around a snapshot. */
class SnapStartHooksTest {

    static final ObjectMapper MAPPER = JacksonBindings.recording(new ObjectMapper());
    static final ElasticMq sqs = ElasticMq.shared();
    static HttpServer server;
    static final AtomicInteger requests = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            byte[] body = "ok".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        // the container credentials endpoint, as under SnapStart (the SDK reads its settings from system
        // properties before the environment); LambdaCredentialsTest checks the chain in an environment of its own
        server.createContext("/credentials", exchange -> {
            byte[] body = ("{\"AccessKeyId\":\"" + ElasticMq.ACCESS_KEY + "\",\"SecretAccessKey\":\"" + ElasticMq.SECRET_KEY
                    + "\",\"Token\":\"snapstart\",\"Expiration\":\"2099-01-01T00:00:00Z\"}").getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        System.setProperty("aws.containerCredentialsFullUri",
                "http://127.0.0.1:" + server.getAddress().getPort() + "/credentials");
        System.setProperty("aws.containerAuthorizationToken", "snapstart-token");
    }

    @AfterAll
    static void stop() {
        System.clearProperty("aws.containerCredentialsFullUri");
        System.clearProperty("aws.containerAuthorizationToken");
        server.stop(0);
    }

    final HttpCallFunction http = new HttpCallFunction(HttpSettings.defaults().withAllow("127.0.0.1/32"));
    final ServiceLimits limits = new ServiceLimits(new LimitSettings(true, LimitAlgorithm.AIMD, 20, 2, 100, 16));
    final ItemFunctions handlers = TestFunctions.builder(MAPPER)
            .add(new DigestFunction(100)).add(new DelayFunction(Duration.ofSeconds(1)))
            .add(http).serviceLimits(limits).build();
    final WorkerPool pool = new WorkerPool(Limits.of(8).withCutoffMargin(Duration.ofSeconds(1)));
    final ItemParser parser = new ItemParser(MAPPER, Optional.empty());

    SnapStartHooks hooks(String entryPoint, SqsClient client) {
        var httpBatches = new HttpBatchProcessor(pool, handlers, parser, MAPPER,
                new RequestBatch.Settings(Duration.ofSeconds(29), 100, 100_000, 1000), Optional.empty());
        return new SnapStartHooks(entryPoint, () -> client, () -> Optional.of(http), () -> httpBatches,
                pool, handlers, parser, MAPPER);
    }

    Outcome<JsonNode> call(String url) {
        var item = new ParsedItem.Valid(new WorkItem("get", HttpCallFunction.TYPE, Optional.empty(),
                MAPPER.createObjectNode().put("url", url)));
        return pool.run(Batch.of(List.of(item)), handlers.dispatcher(), Deadline.after(Duration.ofSeconds(10))).outcome(0);
    }

    @Test
    void afterRestoreTheConnectionPoolsAreEmptyAndNothingIsLost() throws Exception {
        String queue = sqs.createQueue("results-snapstart");
        AtomicInteger built = new AtomicInteger();
        var client = new RestorableSqsClient(() -> {
            built.incrementAndGet();
            return Wiring.buildSqsClient(ElasticMq.REGION, Optional.of(sqs.endpoint()));
        });
        var sink = new SqsResultsSink(client, SqsResultsSink.Settings.defaults(queue));
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
        assertThat(call(url).status()).isEqualTo(Outcome.Status.SUCCEEDED);
        assertThat(sink.deliver(List.of(message("{\"n\":1}")), Deadline.after(Duration.ofSeconds(10)))
                .deliveredCount()).isEqualTo(1);
        SqsClient before = client.current();
        assertThat(http.pooledConnections()).as("a kept-alive connection to the server").isEqualTo(1);
        assertThat(limits.tracked()).as("the server's limit").isEqualTo(1);

        hooks("sqs", client).afterRestore(null);

        assertThat(http.pooledConnections()).isZero();
        assertThat(limits.tracked()).as("every service learned again after a restore").isZero();
        assertThat(built.get()).isEqualTo(2);
        assertThat(client.current()).isNotSameAs(before);
        // the function goes on: the next item and the next result go through the rebuilt client and pool
        assertThat(call(url).status()).isEqualTo(Outcome.Status.SUCCEEDED);
        assertThat(sink.deliver(List.of(message("{\"n\":2}")), Deadline.after(Duration.ofSeconds(10)))
                .deliveredCount()).isEqualTo(1);
        assertThat(sqs.drain(queue)).extracting(m -> m.body()).containsExactlyInAnyOrder("{\"n\":1}", "{\"n\":2}");
        assertThat(requests.get()).isGreaterThanOrEqualTo(2);
    }

    @Test
    void beforeCheckpointPrimesTheSqsPathWithoutCallingAwsAndLeavesNoConnection() throws Exception {
        var neverCalled = new RestorableSqsClient(() -> new SqsClient() {
            @Override
            public String serviceName() {
                return "sqs";
            }

            @Override
            public void close() {
            }
        });
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
        assertThat(call(url).status()).isEqualTo(Outcome.Status.SUCCEEDED);
        var hooks = hooks("sqs", neverCalled);

        var priming = hooks.prime();
        hooks.beforeCheckpoint(null);

        // digest, delay, an unknown type and a malformed body: every result written, no SendMessageBatch made
        // (this client would throw UnsupportedOperationException)
        assertThat(priming).isEqualTo(new SnapStartHooks.Priming(1, 4, 4));
        assertThat(http.pooledConnections()).isZero();
    }

    static final AtomicBoolean PRELOADED_INITIALISED = new AtomicBoolean();

    static final class Preloaded {
        static {
            PRELOADED_INITIALISED.set(true);
        }
    }

    @Test
    void beforeTheSnapshotTheApplicationsClassListIsLoadedAndInitialised() {
        List<String> asked = new CopyOnWriteArrayList<>();
        var loader = new ClassLoader(getClass().getClassLoader()) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
                asked.add(name);
                return super.loadClass(name, resolve);
            }
        };
        assertThat(PRELOADED_INITIALISED).isFalse();

        // the list's form as Quarkus writes and reads it: one name a line, # starts a comment
        int loaded = SnapStartHooks.preload(List.of("# application classes", Preloaded.class.getName() + " # a comment",
                "", "dev.fanout.no.SuchClass"), loader);

        assertThat(loaded).isEqualTo(1);
        assertThat(asked).containsExactly(Preloaded.class.getName(), "dev.fanout.no.SuchClass");
        assertThat(PRELOADED_INITIALISED).isTrue();
    }

    @Test
    void theHttpEntryPointPrimesItsWholePath() {
        var priming = hooks("http", null).prime();

        assertThat(priming).isEqualTo(new SnapStartHooks.Priming(1, 3, 3));
    }

    @Test
    void theFunctionsClientTakesCredentialsFromTheEnvironmentThenTheContainerEndpoint() {
        // under SnapStart, credentials come from the container endpoint, not from environment variables
        try (SqsClient client = Wiring.buildSqsClient("eu-west-1", Optional.empty())) {
            assertThat(client.serviceClientConfiguration().credentialsProvider()).hasToString(
                    "AwsCredentialsProviderChain(credentialsProviders=[EnvironmentVariableCredentialsProvider(), ContainerCredentialsProvider()])");
            assertThat(client.serviceClientConfiguration().region().id()).isEqualTo("eu-west-1");
        }
    }

    static ResultMessage message(String body) {
        return new ResultMessage(body, java.util.Map.of(), Optional.empty(), Optional.empty());
    }
}

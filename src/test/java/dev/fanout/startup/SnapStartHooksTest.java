package dev.fanout.startup;

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
import dev.fanout.testing.FanoutSettings;
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

    final HttpCallFunction http = new HttpCallFunction(FanoutSettings.http("allow", "127.0.0.1/32"));
    final ServiceLimits limits = new ServiceLimits(new LimitSettings(true, LimitAlgorithm.AIMD, 20, 2, 100, 16));
    final ItemFunctions functions = TestFunctions.builder(MAPPER).add(http).serviceLimits(limits).build();
    final WorkerPool pool = new WorkerPool(Limits.of(8).withCutoffMargin(Duration.ofSeconds(1)));

    /** An entry point's start that counts its priming runs, and fails them when told to. */
    static final class CountingStart implements EntryPointStart {
        final String name;
        final AtomicInteger primed = new AtomicInteger();
        final AtomicBoolean fail = new AtomicBoolean();

        CountingStart(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void warmUp(boolean snapStart) {
        }

        @Override
        public Priming prime() {
            primed.incrementAndGet();
            if (fail.get()) {
                throw new IllegalStateException("priming failed");
            }
            return new Priming(1, 4, 4);
        }
    }

    final CountingStart sqsStart = new CountingStart("sqs");
    final CountingStart httpStart = new CountingStart("http");

    SnapStartHooks hooks(String entryPoint, SqsClient client) {
        return new SnapStartHooks(entryPoint, () -> client, () -> Optional.of(http), () -> limits,
                () -> EntryPointStart.named(List.of(sqsStart, httpStart), entryPoint));
    }

    Outcome<JsonNode> call(String url) {
        var item = new ParsedItem.Valid(new WorkItem("get", HttpCallFunction.TYPE, Optional.empty(),
                MAPPER.createObjectNode().put("url", url)));
        return pool.run(Batch.of(List.of(item)), functions.dispatcher(), Deadline.after(Duration.ofSeconds(10))).outcome(0);
    }

    @Test
    void afterRestoreTheConnectionPoolsAreEmptyAndNothingIsLost() throws Exception {
        String queue = sqs.createQueue("results-snapstart");
        AtomicInteger built = new AtomicInteger();
        var client = new RestorableSqsClient(() -> {
            built.incrementAndGet();
            return ElasticMq.client(sqs.endpoint());
        });
        var sink = new SqsResultsSink(client, FanoutSettings.results(queue));
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
        // restoring primes nothing: that was done before the snapshot
        assertThat(sqsStart.primed).hasValue(0);
    }

    @Test
    void beforeCheckpointPrimesTheChosenEntryPointOnceAndLeavesNoConnection() throws Exception {
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
        assertThat(call(url).status()).isEqualTo(Outcome.Status.SUCCEEDED);
        assertThat(http.pooledConnections()).isEqualTo(1);

        hooks("http", null).beforeCheckpoint(null);

        assertThat(httpStart.primed).hasValue(1);
        assertThat(sqsStart.primed).hasValue(0);
        assertThat(http.pooledConnections()).isZero();
    }

    @Test
    void aPrimingThatFailsOrAnEntryPointWithoutAStartStillLetsTheSnapshotBeTaken() throws Exception {
        sqsStart.fail.set(true);

        assertThat(hooks("sqs", null).prime()).isEqualTo(new Priming(0, 0, 0));
        assertThat(sqsStart.primed).hasValue(1);
        assertThat(hooks("no-such-entry-point", null).prime()).isEqualTo(new Priming(0, 0, 0));
        hooks("no-such-entry-point", null).beforeCheckpoint(null);
    }

    @Test
    void beforeTheSnapshotQuarkussGeneratedClassListIsLoadedAndInitialised() throws Exception {
        // test resources hold a META-INF/quarkus-generated-preload-classes.txt that names Preloaded, in the form
        // Quarkus writes; Quarkus's own preloading reads it
        assertThat(PRELOADED_INITIALISED).isFalse();

        hooks("no-such-entry-point", null).beforeCheckpoint(null);

        assertThat(PRELOADED_INITIALISED).isTrue();
    }

    /** Set by {@link Preloaded}'s initialiser, which only the preloading runs. */
    public static final AtomicBoolean PRELOADED_INITIALISED = new AtomicBoolean();

    /** Named by the test resources' preload list. */
    public static final class Preloaded {
        static {
            PRELOADED_INITIALISED.set(true);
        }
    }

    static ResultMessage message(String body) {
        return new ResultMessage(body, java.util.Map.of(), Optional.empty(), Optional.empty());
    }
}

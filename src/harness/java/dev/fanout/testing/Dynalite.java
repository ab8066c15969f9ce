package dev.fanout.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.function.Consumer;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.core.retry.backoff.FixedDelayBackoffStrategy;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.waiters.DynamoDbWaiter;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * dynalite (npm {@code dynalite@4.0.0}, DynamoDB's API in memory) in a Node.js process of its own, on a loopback
 * port the system picks: a real DynamoDB-compatible server for the tests. The first use installs it with npm into
 * {@code target/dynalite} (about 5 s; later uses find it there). dynalite's own command line cannot listen on
 * port 0 (it reads 0 as "unset"), so the server is started from a one-line script that asks for port 0 and prints
 * the port it got. One server per JVM ({@link #shared()}); {@link #createTable} makes a new table at each call.
 * <p>
 * dynalite 4.0.0 ignores {@code ReturnValuesOnConditionCheckFailure}; {@link #start(boolean)} can add it, so that a
 * refused conditional write carries the item that refused it, as DynamoDB's does. dynalite also ends with an uncaught
 * {@code ECONNRESET} when a client drops a request mid-way (a killed function, a client-side time-out); the script
 * logs that and serves on.
 */
public final class Dynalite implements AutoCloseable {

    public static final String VERSION = "4.0.0";
    static final Path HOME = Path.of("target", "dynalite");
    private static final Pattern LISTENING = Pattern.compile("^listening on (\\d+)$");
    private static final Duration INSTALL_TIME = Duration.ofMinutes(3);
    private static final Duration START_TIME = Duration.ofSeconds(30);

    private final Process process;
    private final URI endpoint;
    private final DynamoDbClient client;
    private final AtomicInteger tables = new AtomicInteger();

    private Dynalite(Process process, int port) {
        this.process = process;
        this.endpoint = URI.create("http://127.0.0.1:" + port);
        this.client = client(endpoint);
    }

    /** The JVM's shared server, started at the first call and stopped when the JVM exits. */
    public static Dynalite shared() {
        return Shared.SERVER;
    }

    private static final class Shared {
        static final Dynalite SERVER = start();

        static {
            Runtime.getRuntime().addShutdownHook(new Thread(SERVER::close, "dynalite-stop"));
        }
    }

    /** A server of the caller's own, stopped by {@link #close()}, that answers a refused condition as DynamoDB does. */
    public static Dynalite start() {
        return start(true);
    }

    /**
     * A server of the caller's own, stopped by {@link #close()}.
     *
     * @param returnsHeldItem whether a refused condition returns the item that refused it when the request asks for
     *                        it ({@code ReturnValuesOnConditionCheckFailure=ALL_OLD}), as DynamoDB does; dynalite 4.0.0
     *                        drops that parameter, so this adds it: it declares the parameter to dynalite's validation of
     *                        the put, update and delete actions, and wraps dynalite's condition check, which they call
     */
    public static Dynalite start(boolean returnsHeldItem) {
        Path module = install();
        String root = quoted(module.toAbsolutePath().toString());
        String patch = !returnsHeldItem ? "" : "['putItem', 'updateItem', 'deleteItem'].forEach(function (a) {"
                + " require(" + root + " + '/validations/' + a).types.ReturnValuesOnConditionCheckFailure ="
                + " {type: 'String', enum: ['ALL_OLD', 'NONE']} });"
                + " var db = require(" + root + " + '/db'), check = db.checkConditional;"
                + " db.checkConditional = function (data, existing) { var refused = check(data, existing);"
                + " if (refused && existing && data.ReturnValuesOnConditionCheckFailure == 'ALL_OLD')"
                + " refused.body.Item = existing; return refused };";
        // dynalite throws from a request's 'error' event, so a client that drops a request mid-way (a killed
        // process, a client-side time-out) ends the whole server: log such errors and serve on
        String survive = "process.on('uncaughtException', function (e) { console.error('request failed: ' + e.message) });";
        String script = survive + patch + "require(" + root + ")({createTableMs: 0,"
                + " deleteTableMs: 0, updateTableMs: 0}).listen(0, '127.0.0.1', function () {"
                + " console.log('listening on ' + this.address().port) })";
        try {
            Process process = new ProcessBuilder("node", "-e", script).redirectErrorStream(true).start();
            CompletableFuture<Integer> port = new CompletableFuture<>();
            Thread.ofPlatform().daemon().name("dynalite-output").start(() -> readPort(process, port));
            try {
                return new Dynalite(process, port.get(START_TIME.toSeconds(), TimeUnit.SECONDS));
            } catch (ExecutionException | TimeoutException e) {
                process.destroyForcibly();
                throw new IllegalStateException("dynalite did not start within " + START_TIME + ": " + e.getMessage(), e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start node (Node.js 20 is needed for dynalite)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while dynalite started", e);
        }
    }

    private static void readPort(Process process, CompletableFuture<Integer> port) {
        StringBuilder seen = new StringBuilder();
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                Matcher listening = LISTENING.matcher(line.strip());
                if (listening.matches()) {
                    port.complete(Integer.parseInt(listening.group(1)));
                } else if (!port.isDone()) {
                    seen.append(line).append('\n');
                } else {
                    System.err.println("dynalite (pid " + process.pid() + "): " + line);
                }
            }
        } catch (IOException e) {
            port.completeExceptionally(e);
        }
        port.completeExceptionally(new IllegalStateException("node ended before listening: " + seen));
        if (port.isDone() && !port.isCompletedExceptionally()) {
            process.onExit().thenAccept(ended -> System.err.println("dynalite (pid " + ended.pid() + ") ended, exit "
                    + ended.exitValue()));
        }
    }

    /** {@code target/dynalite/node_modules/dynalite}, installed with npm when it is not there yet. */
    static synchronized Path install() {
        Path module = HOME.resolve("node_modules").resolve("dynalite");
        if (Files.isRegularFile(module.resolve("index.js"))) {
            return module;
        }
        try {
            Files.createDirectories(HOME);
            Process npm = new ProcessBuilder(List.of("npm", "install", "--no-save", "--no-audit", "--no-fund",
                    "--prefix", HOME.toString(), "dynalite@" + VERSION)).redirectErrorStream(true)
                    .redirectOutput(HOME.resolve("npm-install.log").toFile()).start();
            if (!npm.waitFor(INSTALL_TIME.toSeconds(), TimeUnit.SECONDS)) {
                npm.destroyForcibly();
                throw new IllegalStateException("npm install dynalite@" + VERSION + " took more than " + INSTALL_TIME);
            }
            if (npm.exitValue() != 0 || !Files.isRegularFile(module.resolve("index.js"))) {
                throw new IllegalStateException("npm install dynalite@" + VERSION + " failed (exit " + npm.exitValue()
                        + "): " + Files.readString(HOME.resolve("npm-install.log")));
            }
            return module;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run npm (needed to install dynalite)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while npm installed dynalite", e);
        }
    }

    private static String quoted(String text) {
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    public URI endpoint() {
        return endpoint;
    }

    public DynamoDbClient client() {
        return client;
    }

    /** A client like the function's: one attempt per call, URL-connection HTTP. */
    public static DynamoDbClient client(URI endpoint) {
        return client(endpoint, operation -> {
        });
    }

    /** A client like the function's that tells {@code requests} the operation's name (PutItem, ...) of each request sent. */
    public static DynamoDbClient client(URI endpoint, Consumer<String> requests) {
        return DynamoDbClient.builder()
                .endpointOverride(endpoint)
                .region(Region.of(ElasticMq.REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ElasticMq.ACCESS_KEY,
                        ElasticMq.SECRET_KEY)))
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(30)).build())
                .overrideConfiguration(o -> o.retryStrategy(
                        software.amazon.awssdk.awscore.retry.AwsRetryStrategy.doNotRetry())
                        .addExecutionInterceptor(new ExecutionInterceptor() {
                            @Override
                            public void beforeTransmission(Context.BeforeTransmission context,
                                    ExecutionAttributes attributes) {
                                requests.accept(attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME));
                            }
                        }))
                .build();
    }

    /** A new table shaped as template.yaml's IdempotencyTable (partition key {@code id}, a string); its name. */
    public String createTable() {
        String name = "idempotency-" + tables.incrementAndGet() + "-" + ProcessHandle.current().pid();
        client.createTable(b -> b.tableName(name).billingMode(BillingMode.PAY_PER_REQUEST)
                .attributeDefinitions(AttributeDefinition.builder().attributeName("id")
                        .attributeType(ScalarAttributeType.S).build())
                .keySchema(KeySchemaElement.builder().attributeName("id").keyType(KeyType.HASH).build()));
        // dynalite makes a table ACTIVE on its next tick; the SDK's default waiter would poll every 20 s
        try (DynamoDbWaiter waiter = DynamoDbWaiter.builder().client(client).overrideConfiguration(w -> w
                .backoffStrategy(FixedDelayBackoffStrategy.create(Duration.ofMillis(10))).maxAttempts(500)).build()) {
            waiter.waitUntilTableExists(b -> b.tableName(name)).matched().exception().ifPresent(e -> {
                throw new IllegalStateException("table " + name + " did not become active", e);
            });
        }
        return name;
    }

    @Override
    public void close() {
        client.close();
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}

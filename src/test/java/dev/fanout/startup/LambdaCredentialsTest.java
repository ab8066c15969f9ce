package dev.fanout.startup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.sun.net.httpserver.HttpServer;

import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;

/**
 * The credentials chain of the SQS client, in a JVM of its own whose environment the test sets whole (the
 * chain reads environment variables, which a running JVM cannot change): a local HTTP server stands in for
 * Lambda's container credentials endpoint and answers as it does.
 */
class LambdaCredentialsTest {

    static final String TOKEN = "container-token-1";
    static HttpServer endpoint;
    static final List<String> authorizations = new CopyOnWriteArrayList<>();
    static final List<String> paths = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startEndpoint() throws IOException {
        endpoint = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        endpoint.createContext("/", exchange -> {
            paths.add(exchange.getRequestURI().getPath());
            authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            byte[] body = ("{\"AccessKeyId\":\"ASIACONTAINER\",\"SecretAccessKey\":\"container-secret\","
                    + "\"Token\":\"container-session\",\"Expiration\":\"2099-01-01T00:00:00Z\"}").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        endpoint.start();
    }

    @AfterAll
    static void stopEndpoint() {
        endpoint.stop(0);
    }

    @BeforeEach
    void clearRequests() {
        authorizations.clear();
        paths.clear();
    }

    static String fullUri() {
        return "http://127.0.0.1:" + endpoint.getAddress().getPort() + "/2021-04-23/credentials";
    }

    @Test
    void underSnapStartTheContainerEndpointAnswersWithTheAuthorizationToken() throws Exception {
        // what Lambda sets under SnapStart: no keys, the endpoint and its token
        String out = probe(Map.of("AWS_CONTAINER_CREDENTIALS_FULL_URI", fullUri(), "AWS_CONTAINER_AUTHORIZATION_TOKEN", TOKEN),
                List.of());

        assertThat(out).isEqualTo("ASIACONTAINER container-secret container-session");
        assertThat(paths).containsExactly("/2021-04-23/credentials");
        assertThat(authorizations).containsExactly(TOKEN);
    }

    @Test
    void theEnvironmentsKeysComeFirstAndTheEndpointIsNotCalled() throws Exception {
        var env = new TreeMap<>(Map.of("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT", "AWS_SECRET_ACCESS_KEY", "environment-secret",
                "AWS_SESSION_TOKEN", "environment-session", "AWS_CONTAINER_CREDENTIALS_FULL_URI", fullUri(),
                "AWS_CONTAINER_AUTHORIZATION_TOKEN", TOKEN));

        String out = probe(env, List.of());

        assertThat(out).isEqualTo("AKIAENVIRONMENT environment-secret environment-session");
        assertThat(paths).isEmpty();
    }

    @Test
    void whatLambdaNeverSetsIsNotRead(@TempDir Path home) throws Exception {
        // a profile file and system properties: the SDK's default chain would take either, this chain neither
        Path credentials = Files.writeString(home.resolve("credentials"),
                "[default]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\n");
        var env = Map.of("AWS_SHARED_CREDENTIALS_FILE", credentials.toString(), "HOME", home.toString());

        String out = probe(env, List.of("-Daws.accessKeyId=AKIAPROPERTY", "-Daws.secretAccessKey=property-secret",
                "-Duser.home=" + home));

        assertThat(out).startsWith("error: Unable to load credentials from any of the providers in the chain")
                .contains("EnvironmentVariableCredentialsProvider()", "ContainerCredentialsProvider()")
                .doesNotContain("AKIAPROFILE", "AKIAPROPERTY");
        assertThat(paths).isEmpty();
    }

    /** Resolves the chain in a new JVM with exactly this environment; its one line of output. */
    static String probe(Map<String, String> env, List<String> jvmOptions) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path")));
        command.addAll(jvmOptions);
        command.add(Probe.class.getName());
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().putAll(env);
        Process process = builder.start();
        try {
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the probe ended").isTrue();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            // the SDK may log to the console; the probe's answer is its last line
            List<String> lines = output.lines().toList();
            return lines.isEmpty() ? "" : lines.getLast();
        } finally {
            process.destroyForcibly();
        }
    }

    /** Prints the credentials the chain resolves (access key, secret, session token), or the error. */
    public static final class Probe {

        public static void main(String[] args) {
            try (var chain = LambdaCredentials.chain()) {
                AwsCredentials credentials = chain.resolveCredentials();
                System.out.println(credentials.accessKeyId() + " " + credentials.secretAccessKey() + " "
                        + (credentials instanceof AwsSessionCredentials session ? session.sessionToken() : "-"));
            } catch (RuntimeException e) {
                System.out.println("error: " + e.getMessage().replace('\n', ' '));
            }
        }
    }
}

package dev.fanout.bench;

import java.time.Duration;
import java.util.Map;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.testing.ElasticMq;
import dev.fanout.testing.LocalEventSource;
import dev.fanout.testing.PackagedFunction;
import dev.fanout.testing.ProxyEvents;
import dev.fanout.testing.ProxyEvents.Format;
import dev.fanout.testing.ProxyEvents.Response;
import dev.fanout.testing.RuntimeApiServer;

/**
 * Figures of queued mode, through both packaged functions under the Runtime Interface Client on an
 * embedded ElasticMQ: {@code requests} POSTs of {@code items} digest items each with
 * {@code Prefer: respond-async}; the time to each 202, and the time from the first POST until the last
 * result is on the results queue, with an emulated event source mapping (batches of 1,000) running the
 * SQS function. Prints figures; asserts nothing about speed.
 *
 * <pre>
 * ./mvnw -B package -DskipTests
 * ./mvnw -B org.codehaus.mojo:exec-maven-plugin:3.6.2:exec -Dexec.executable=java -Dexec.classpathScope=test \
 *     -Dexec.args="-classpath %classpath dev.fanout.bench.QueuedModeFigures 10 1000"
 * </pre>
 */
public final class QueuedModeFigures {

    private QueuedModeFigures() {
    }

    public static void main(String[] args) throws Exception {
        int requests = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int items = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        try (ElasticMq sqs = ElasticMq.start();
                RuntimeApiServer httpApi = RuntimeApiServer.start();
                RuntimeApiServer sqsApi = RuntimeApiServer.start()) {
            String work = sqs.createQueue("figures-work");
            String results = sqs.createQueue("figures-results");
            try (PackagedFunction http = PackagedFunction.start("http", httpApi, Map.of("WORK_QUEUE_URL", work,
                    "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString()));
                    PackagedFunction worker = PackagedFunction.start("sqs", sqsApi, Map.of("RESULTS_QUEUE_URL", results,
                            "FANOUT_RESULTS_ENDPOINT", sqs.endpoint().toString(), "FANOUT_CUTOFF_MARGIN", "3s"))) {
                // one request of one item each first, so that both functions are warm (Lambda's init phase)
                post(httpApi, 1);
                var source = new LocalEventSource(sqs.client(), work, sqsApi, 1_000, Duration.ofSeconds(60));
                drain(source);
                sqs.drain(results);

                long start = System.nanoTime();
                long slowest202 = 0;
                int accepted = 0;
                for (int r = 0; r < requests; r++) {
                    long before = System.nanoTime();
                    Response response = post(httpApi, items);
                    slowest202 = Math.max(slowest202, System.nanoTime() - before);
                    if (response.status() != 202) {
                        throw new IllegalStateException("no 202: " + response.body());
                    }
                    accepted += response.body().get("queued").asInt();
                }
                long allAccepted = System.nanoTime() - start;
                int invocations = drain(source);
                int onResultsQueue;
                while ((onResultsQueue = sqs.depth(results)) < accepted && source.outstanding() > 0) {
                    drain(source);
                }
                long lastResult = System.nanoTime() - start;
                System.out.printf("queued mode: %d requests of %d items, %d items accepted%n", requests, items, accepted);
                System.out.printf("  slowest 202: %d ms; all %d accepted after %d ms%n", millis(slowest202), accepted,
                        millis(allAccepted));
                System.out.printf("  last result on the results queue %d ms after the first POST (%d SQS-function"
                        + " invocations of up to 1,000 records); results on the queue: %d%n", millis(lastResult),
                        invocations, onResultsQueue);
            }
        }
    }

    private static Response post(RuntimeApiServer api, int items) throws Exception {
        ObjectNode event = Format.HTTP_API_V2.event(ProxyEvents.batch(IntStream.range(0, items)
                .mapToObj(i -> "{\"type\":\"digest\",\"payload\":{\"data\":\"" + i + "\"}}").toList()));
        Format.HTTP_API_V2.withHeader(event, "Prefer", "respond-async");
        return Response.read(api.invoke(event.toString(), Duration.ofSeconds(30)).body());
    }

    private static int drain(LocalEventSource source) throws Exception {
        int invocations = 0;
        while (source.outstanding() > 0) {
            if (source.pollAndInvoke() != null) {
                invocations++;
            }
        }
        return invocations;
    }

    private static long millis(long nanos) {
        return Duration.ofNanos(nanos).toMillis();
    }
}

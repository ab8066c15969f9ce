package dev.fanout.function.idempotency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.WorkerPool;
import dev.fanout.testing.Dynalite;
import dev.fanout.work.FunctionTarget;
import dev.fanout.work.Idempotency;
import dev.fanout.work.Idempotent;
import dev.fanout.work.IdempotencyStore;
import dev.fanout.work.ItemFunctions;
import dev.fanout.work.ItemParser;
import dev.fanout.work.ParsedItem;
import dev.fanout.work.WorkContext;
import com.sun.net.httpserver.HttpServer;

import io.quarkus.funqy.Context;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Idempotent functions against a real DynamoDB-compatible server (dynalite, started by the harness): items run
 * through the engine and {@link ItemFunctions}' dispatcher as in production, with the DynamoDB store. A side-effect
 * counter per fixture shows what ran; a settable clock moves the records' expiry without waiting.
 */
class IdempotentItemsTest {

    static final Dynalite DYNALITE = Dynalite.shared();
    static final ObjectMapper MAPPER = new ObjectMapper();
    static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");

    final ItemParser parser = new ItemParser(MAPPER, Optional.empty());
    final String table = DYNALITE.createTable();
    final DynamoDbIdempotencyStore store = new DynamoDbIdempotencyStore(DYNALITE.client(), table);
    final SettableClock clock = new SettableClock(T0);
    final Payments payments = new Payments();

    /** The fixture's methods carry no {@code @Funq}, so that Funqy's scanner leaves them out of the application. */
    public static final class Payments {
        final AtomicInteger charges = new AtomicInteger();
        volatile CountDownLatch entered = new CountDownLatch(0);
        volatile CountDownLatch release = new CountDownLatch(0);
        final AtomicInteger failuresToThrow = new AtomicInteger();
        final AtomicReference<Duration> remainingSeen = new AtomicReference<>();

        public record Charge(String order, int cents, String note) {
        }

        @Idempotent
        public Map<String, Object> charge(Charge charge, @Context WorkContext item) throws InterruptedException {
            entered.countDown();
            remainingSeen.set(item.remaining());
            if (!release.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never released");
            }
            if (failuresToThrow.getAndDecrement() > 0) {
                throw new IllegalStateException("card service down");
            }
            return Map.of("charged", charge.cents(), "run", charges.incrementAndGet());
        }

        @Idempotent(key = "/order")
        public Map<String, Object> byOrder(Charge charge) {
            return Map.of("order", charge.order(), "run", charges.incrementAndGet());
        }

        @Idempotent(key = { "/order", "/cents" }, payload = "/cents")
        public int byOrderAndCents(JsonNode charge) {
            return charges.incrementAndGet();
        }

        @Idempotent
        public String large(JsonNode size) {
            charges.incrementAndGet();
            return "x".repeat(size.intValue());
        }

        /** Its side effect first, then a wait that ignores the cut-off's interrupt. */
        @Idempotent
        public int stubborn(JsonNode any) {
            charges.incrementAndGet();
            entered.countDown();
            boolean interrupted = false;
            while (true) {
                try {
                    if (!release.await(10, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("never released");
                    }
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return charges.get();
        }

        @Idempotent
        public void noOutput() {
            charges.incrementAndGet();
        }

        public int byConfiguration(JsonNode any) {
            return charges.incrementAndGet();
        }

        public int plain(JsonNode any) {
            return charges.incrementAndGet();
        }
    }

    static final class SettableClock extends Clock {
        volatile Instant now;

        SettableClock(Instant now) {
            this.now = now;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    ItemFunctions functions(IdempotencyStore store, Object target) {
        return functions(store, target, clock);
    }

    ItemFunctions functions(IdempotencyStore store, Object target, Clock clock) {
        ItemFunctions.Builder builder = ItemFunctions.builder(MAPPER)
                .idempotency(new Idempotency(store, Duration.ofHours(1), Set.of("byConfiguration"), clock));
        for (String name : List.of("charge", "byOrder", "byOrderAndCents", "large", "noOutput", "byConfiguration",
                "plain", "stubborn")) {
            builder.add(name, method(target.getClass(), name), FunctionTarget.shared(target));
        }
        return builder.build();
    }

    static Method method(Class<?> type, String name) {
        for (Method method : type.getMethods()) {
            if (method.getName().equals(name)) {
                return method;
            }
        }
        throw new AssertionError(name);
    }

    BatchResult<JsonNode> run(ItemFunctions functions, Limits limits, String... bodies) {
        List<ParsedItem> items = new ArrayList<>();
        for (int i = 0; i < bodies.length; i++) {
            items.add(parser.parse(bodies[i], "m-" + i, Optional.empty()));
        }
        return new WorkerPool(limits).run(Batch.of(items), functions.dispatcher(), Deadline.after(Duration.ofSeconds(30)));
    }

    Outcome<JsonNode> one(ItemFunctions functions, String body) {
        return run(functions, Limits.of(4), body).outcome(0);
    }

    static JsonNode value(Outcome<JsonNode> outcome) {
        assertThat(outcome).isInstanceOf(Outcome.Succeeded.class);
        return ((Outcome.Succeeded<JsonNode>) outcome).value();
    }

    static String rejected(Outcome<JsonNode> outcome) {
        assertThat(outcome).isInstanceOf(Outcome.Rejected.class);
        return ((Outcome.Rejected<JsonNode>) outcome).reason();
    }

    static Outcome.Failed<JsonNode> failed(Outcome<JsonNode> outcome) {
        assertThat(outcome).isInstanceOf(Outcome.Failed.class);
        return (Outcome.Failed<JsonNode>) outcome;
    }

    static final String CHARGE = "{\"id\":\"order-1\",\"type\":\"charge\",\"payload\":{\"order\":\"o-1\",\"cents\":500,\"note\":\"n\"}}";

    Map<String, AttributeValue> record(String key) {
        return DYNALITE.client().getItem(b -> b.tableName(table).key(Map.of("id", AttributeValue.fromS(key)))
                .consistentRead(true)).item();
    }

    @Nested
    class Redelivery {

        @Test
        void theFirstRunStoresItsOutputAndARedeliveryGetsItWithoutRunning() throws Exception {
            ItemFunctions functions = functions(store, payments);
            JsonNode first = value(one(functions, CHARGE));
            JsonNode again = value(one(functions, CHARGE));

            assertThat(first.toString()).contains("\"run\":1").contains("\"charged\":500");
            assertThat(again).isEqualTo(first);
            assertThat(payments.charges).hasValue(1);
            Map<String, AttributeValue> record = record("charge#order-1");
            assertThat(record.get("status").s()).isEqualTo("COMPLETED");
            assertThat(Long.parseLong(record.get("expiresAt").n())).isEqualTo(T0.plus(Duration.ofHours(1)).getEpochSecond());
            assertThat(MAPPER.readTree(record.get("output").s())).isEqualTo(first);
        }

        @Test
        void aRedeliveryCostsOneRequestTheRefusedClaimThatCarriesTheRecord() {
            List<String> requests = new CopyOnWriteArrayList<>();
            try (var client = Dynalite.client(DYNALITE.endpoint(), requests::add)) {
                ItemFunctions functions = functions(new DynamoDbIdempotencyStore(client, table), payments);
                JsonNode first = value(one(functions, CHARGE));
                assertThat(requests).containsExactly("PutItem", "PutItem"); // the claim, the completion
                requests.clear();

                assertThat(value(one(functions, CHARGE))).isEqualTo(first);
                assertThat(requests).containsExactly("PutItem"); // the refused claim, with the completed record
                assertThat(payments.charges).hasValue(1);
            }
        }

        @Test
        void aServerThatDoesNotReturnTheRefusingRecordCostsOneReadMore() {
            List<String> requests = new CopyOnWriteArrayList<>();
            try (Dynalite unpatched = Dynalite.start(false);
                    var client = Dynalite.client(unpatched.endpoint(), requests::add)) {
                ItemFunctions functions = functions(new DynamoDbIdempotencyStore(client, unpatched.createTable()),
                        payments);
                JsonNode first = value(one(functions, CHARGE));
                requests.clear();

                assertThat(value(one(functions, CHARGE))).isEqualTo(first);
                assertThat(requests).containsExactly("PutItem", "GetItem");
                assertThat(payments.charges).hasValue(1);
            }
        }

        @Test
        void aRedeliveryWithItsFieldsInAnotherOrderIsTheSamePayload() {
            ItemFunctions functions = functions(store, payments);
            value(one(functions, CHARGE));
            JsonNode again = value(one(functions,
                    "{\"payload\":{\"note\":\"n\",\"cents\":500,\"order\":\"o-1\"},\"type\":\"charge\",\"id\":\"order-1\"}"));

            assertThat(again.get("run").intValue()).isEqualTo(1);
            assertThat(payments.charges).hasValue(1);
        }

        @Test
        void aFailureDeletesItsClaimSoThatTheRetryRuns() {
            ItemFunctions functions = functions(store, payments);
            payments.failuresToThrow.set(1);

            Outcome.Failed<JsonNode> first = failed(one(functions, CHARGE));
            assertThat(first.retryable()).isTrue();
            assertThat(first.error()).hasMessage("card service down");
            assertThat(record("charge#order-1")).isEmpty();

            assertThat(value(one(functions, CHARGE)).get("run").intValue()).isEqualTo(1);
            assertThat(payments.charges).hasValue(1);
        }

        @Test
        void theKeyCanBeFieldsOfThePayloadInsteadOfTheId() {
            ItemFunctions functions = functions(store, payments);
            JsonNode first = value(one(functions,
                    "{\"id\":\"a\",\"type\":\"byOrder\",\"payload\":{\"order\":\"o-9\",\"cents\":1,\"note\":\"n\"}}"));
            JsonNode second = value(one(functions,
                    "{\"id\":\"b\",\"type\":\"byOrder\",\"payload\":{\"order\":\"o-9\",\"cents\":1,\"note\":\"n\"}}"));

            assertThat(second).isEqualTo(first);
            assertThat(payments.charges).hasValue(1);
        }

        @Test
        void onlyTheChosenPayloadFieldsAreValidated() {
            ItemFunctions functions = functions(store, payments);
            value(one(functions, "{\"type\":\"byOrderAndCents\",\"payload\":{\"order\":\"o-2\",\"cents\":7,\"note\":\"a\"}}"));
            JsonNode again = value(one(functions,
                    "{\"type\":\"byOrderAndCents\",\"payload\":{\"order\":\"o-2\",\"cents\":7,\"note\":\"b\"}}"));

            assertThat(again.intValue()).isEqualTo(1);
            assertThat(payments.charges).hasValue(1);
        }

        @Test
        void aFunctionNamedInTheConfigurationIsIdempotentByItemIdAndOthersAreNot() {
            ItemFunctions functions = functions(store, payments);
            assertThat(functions.idempotentTypes()).containsExactly("byConfiguration", "byOrder", "byOrderAndCents",
                    "charge", "large", "noOutput", "stubborn");
            value(one(functions, "{\"id\":\"c-1\",\"type\":\"byConfiguration\",\"payload\":1}"));
            value(one(functions, "{\"id\":\"c-1\",\"type\":\"byConfiguration\",\"payload\":1}"));
            value(one(functions, "{\"id\":\"p-1\",\"type\":\"plain\",\"payload\":1}"));
            value(one(functions, "{\"id\":\"p-1\",\"type\":\"plain\",\"payload\":1}"));

            assertThat(payments.charges).hasValue(3);
            assertThat(record("plain#p-1")).isEmpty();
        }

        @Test
        void aFunctionThatReturnsNothingRunsOnce() {
            ItemFunctions functions = functions(store, payments);
            assertThat(value(one(functions, "{\"id\":\"v\",\"type\":\"noOutput\"}"))).isNull();
            assertThat(value(one(functions, "{\"id\":\"v\",\"type\":\"noOutput\"}"))).isNull();
            assertThat(payments.charges).hasValue(1);
        }

        @Test
        void anOutputTooLargeToStoreIsStoredAsItsDigestAndTheReplaySaysSo() {
            ItemFunctions functions = functions(store, payments);
            int size = Idempotency.LARGEST_STORED_OUTPUT;
            JsonNode first = value(one(functions, "{\"id\":\"big\",\"type\":\"large\",\"payload\":" + size + "}"));
            JsonNode again = value(one(functions, "{\"id\":\"big\",\"type\":\"large\",\"payload\":" + size + "}"));

            assertThat(first.textValue()).hasSize(size);
            assertThat(again.get("outputBytes").longValue()).isEqualTo(size + 2); // the JSON string's quotes
            assertThat(again.get("outputSha256").textValue()).hasSize(64);
            assertThat(again.get("idempotency").textValue()).isEqualTo("output not stored: its " + (size + 2)
                    + " bytes exceed the store's limit of " + size + "; this is its digest");
            assertThat(record("large#big")).doesNotContainKey("output");
            assertThat(payments.charges).hasValue(1);
        }
    }

    @Nested
    class AtOnce {

        @Test
        void twoRunsOfOneKeyAtOnceRunItOnceAndHandTheOtherBack() throws Exception {
            ItemFunctions functions = functions(store, payments);
            payments.entered = new CountDownLatch(1);
            payments.release = new CountDownLatch(1);
            CompletableFuture<Outcome<JsonNode>> first = CompletableFuture.supplyAsync(() -> one(functions, CHARGE));
            assertThat(payments.entered.await(10, TimeUnit.SECONDS)).isTrue();

            Outcome.Failed<JsonNode> second = failed(one(functions, CHARGE));
            payments.release.countDown();

            assertThat(second.retryable()).isTrue();
            assertThat(second.error()).isInstanceOf(Idempotency.InProgressElsewhere.class)
                    .hasMessageStartingWith("'charge' item's key is in progress in another run until ")
                    .hasMessageEndingWith(": handed back, so that it never runs twice at once");
            assertThat(value(first.get(10, TimeUnit.SECONDS)).get("run").intValue()).isEqualTo(1);
            assertThat(payments.charges).hasValue(1);
        }

        @Test
        void theClaimLastsUntilTheItemsOwnDeadlineNotTheInvocations() throws Exception {
            ItemFunctions functions = functions(store, payments);
            payments.entered = new CountDownLatch(1);
            payments.release = new CountDownLatch(1);
            Limits twoSecondItems = Limits.of(4).withItemTimeout(Duration.ofSeconds(2));
            CompletableFuture<BatchResult<JsonNode>> running = CompletableFuture.supplyAsync(
                    () -> run(functions, twoSecondItems, CHARGE));
            assertThat(payments.entered.await(10, TimeUnit.SECONDS)).isTrue();
            Map<String, AttributeValue> claim = record("charge#order-1");
            payments.release.countDown();
            running.get(10, TimeUnit.SECONDS);

            long until = Long.parseLong(claim.get("inProgressUntil").n()) - T0.toEpochMilli()
                    - Idempotency.CLOCK_ALLOWANCE.toMillis();
            assertThat(claim.get("status").s()).isEqualTo("IN_PROGRESS");
            assertThat(until).isBetween(payments.remainingSeen.get().toMillis(), 2_000L); // not the batch's 30 s
        }

        @Test
        void aClaimWhoseItemDiedIsTakenOverOnceItsDeadlinePassed() {
            ItemFunctions functions = functions(store, payments);
            // a run killed after its claim: nothing completes or deletes it
            store.claim(new IdempotencyStore.InProgress("charge#order-1", "dead-run", payloadHashOf(functions),
                    T0.plusSeconds(5), T0.plusSeconds(3605)), T0, Duration.ofSeconds(5));

            Outcome.Failed<JsonNode> before = failed(one(functions, CHARGE));
            assertThat(before.retryable()).isTrue();
            assertThat(before.error()).hasMessageContaining("in progress in another run until 2026-12-07T12:00:05Z");
            assertThat(payments.charges).hasValue(0);

            clock.now = T0.plusSeconds(6);
            assertThat(value(one(functions, CHARGE)).get("run").intValue()).isEqualTo(1);
            assertThat(store.complete("charge#order-1", "dead-run", new IdempotencyStore.Completed("h",
                    Optional.of("0"), "h", 1, T0.plusSeconds(99)), Duration.ofSeconds(5))).isFalse();
            assertThat(record("charge#order-1").get("output").s()).contains("\"run\":1");
        }

        private String payloadHashOf(ItemFunctions functions) {
            // the record a first, successful run leaves holds the hash of this payload
            String other = DYNALITE.createTable();
            ItemFunctions probe = functions(new DynamoDbIdempotencyStore(DYNALITE.client(), other), new Payments());
            value(one(probe, CHARGE));
            return DYNALITE.client().getItem(b -> b.tableName(other)
                    .key(Map.of("id", AttributeValue.fromS("charge#order-1")))).item().get("payloadHash").s();
        }
    }

    @Nested
    class Refused {

        @Test
        void theSameKeyWithAnotherPayloadIsRejectedNotServedTheOtherOutput() {
            ItemFunctions functions = functions(store, payments);
            value(one(functions, CHARGE));
            String reason = rejected(one(functions, CHARGE.replace("500", "900")));

            assertThat(reason).startsWith("idempotency key of 'charge' item was used with another payload (its"
                    + " record's payload hash is ").endsWith("): refused, so that it is never served another payload's"
                    + " output");
            assertThat(payments.charges).hasValue(1);
        }

        @Test
        void aKeyPointerThatSelectsNothingRejectsTheItemWithTheReason() {
            ItemFunctions functions = functions(store, payments);
            String reason = rejected(one(functions, "{\"type\":\"byOrderAndCents\",\"payload\":{\"order\":\"o\"}}"));

            assertThat(reason).isEqualTo("idempotency key of 'byOrderAndCents' item: JSON pointer '/cents' selects"
                    + " nothing in the payload");
            assertThat(payments.charges).hasValue(0);
        }

        @Test
        void anEmptyKeyIsRejected() {
            ItemFunctions functions = functions(store, payments);
            String reason = rejected(one(functions,
                    "{\"type\":\"byOrder\",\"payload\":{\"order\":\"\",\"cents\":1,\"note\":\"n\"}}"));

            assertThat(reason).isEqualTo("idempotency key of 'byOrder' item is empty: '/order' selects an empty value");
            assertThat(payments.charges).hasValue(0);
        }

        @Test
        void aStoredRecordThatDoesNotParseRejectsTheItemWithTheReason() {
            ItemFunctions functions = functions(store, payments);
            DYNALITE.client().putItem(b -> b.tableName(table).item(Map.of("id", AttributeValue.fromS("charge#order-1"),
                    "status", AttributeValue.fromS("DONE?"), "payloadHash", AttributeValue.fromS("h"),
                    "expiresAt", AttributeValue.fromN(Long.toString(T0.getEpochSecond() + 60)))));

            assertThat(rejected(one(functions, CHARGE))).isEqualTo("idempotency record of 'charge' item: record"
                    + " 'charge#order-1' has the status 'DONE?', neither IN_PROGRESS nor COMPLETED");
            assertThat(payments.charges).hasValue(0);
        }

        @Test
        void aStoreThatCannotBeReachedHandsTheItemBackWithoutRunningIt() throws IOException {
            URI closed;
            try (ServerSocket socket = new ServerSocket(0)) {
                closed = URI.create("http://127.0.0.1:" + socket.getLocalPort());
            }
            try (var client = Dynalite.client(closed)) {
                ItemFunctions functions = functions(new DynamoDbIdempotencyStore(client, table), payments);
                Outcome.Failed<JsonNode> outcome = failed(one(functions, CHARGE));

                assertThat(outcome.retryable()).isTrue();
                assertThat(outcome.error()).isInstanceOf(IdempotencyStore.Unavailable.class)
                        .hasMessageStartingWith("idempotency store unavailable (claim): ")
                        .hasMessageEndingWith(": handed back, not run unguarded");
                assertThat(payments.charges).hasValue(0);
            }
        }

        @Test
        void aThrottledStoreHandsTheItemBackWithoutRunningIt() throws IOException {
            HttpServer throttling = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
            AtomicInteger calls = new AtomicInteger();
            throttling.createContext("/", exchange -> {
                calls.incrementAndGet();
                exchange.getRequestBody().readAllBytes();
                byte[] body = ("{\"__type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\","
                        + "\"message\":\"The level of configured provisioned throughput for the table was exceeded\"}")
                        .getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.0");
                exchange.sendResponseHeaders(400, body.length);
                try (var out = exchange.getResponseBody()) {
                    out.write(body);
                }
            });
            throttling.start();
            try (var client = Dynalite.client(URI.create("http://127.0.0.1:" + throttling.getAddress().getPort()))) {
                ItemFunctions functions = functions(new DynamoDbIdempotencyStore(client, table), payments);
                Outcome.Failed<JsonNode> outcome = failed(one(functions, CHARGE));

                assertThat(outcome.retryable()).isTrue();
                assertThat(outcome.error()).isInstanceOf(IdempotencyStore.Unavailable.class)
                        .hasMessageContaining("The level of configured provisioned throughput for the table was exceeded");
                assertThat(calls).hasValue(1);
                assertThat(payments.charges).hasValue(0);
            } finally {
                throttling.stop(0);
            }
        }

        @Test
        void aStoreThatDoesNotAnswerHandsTheItemBackByItsDeadline() throws Exception {
            CountDownLatch answer = new CountDownLatch(1);
            CountDownLatch asked = new CountDownLatch(1);
            HttpServer silent = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
            silent.createContext("/", exchange -> {
                asked.countDown();
                try {
                    answer.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                exchange.close();
            });
            silent.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
            silent.start();
            try (var client = Dynalite.client(URI.create("http://127.0.0.1:" + silent.getAddress().getPort()))) {
                ItemFunctions functions = functions(new DynamoDbIdempotencyStore(client, table), payments);
                long start = System.nanoTime();
                Outcome<JsonNode> outcome = run(functions, Limits.of(4).withItemTimeout(Duration.ofMillis(500)), CHARGE)
                        .outcome(0);
                long tookMs = (System.nanoTime() - start) / 1_000_000;

                assertThat(asked.getCount()).isZero();
                // the store's call ends at the item's deadline: its own time-out or the engine's cancellation
                assertThat(outcome.status()).isIn(Outcome.Status.FAILED, Outcome.Status.TIMED_OUT);
                if (outcome instanceof Outcome.Failed<JsonNode> f) {
                    assertThat(f.retryable()).isTrue();
                }
                assertThat(tookMs).as("bounded by the item's 500 ms, not the server's 30 s").isLessThan(10_000);
                assertThat(payments.charges).hasValue(0);
            } finally {
                answer.countDown();
                silent.stop(0);
            }
        }

        @Test
        void aMissingTableHandsTheItemBack() {
            ItemFunctions functions = functions(new DynamoDbIdempotencyStore(DYNALITE.client(), "no-such-table"),
                    payments);
            Outcome.Failed<JsonNode> outcome = failed(one(functions, CHARGE));

            assertThat(outcome.retryable()).isTrue();
            assertThat(outcome.error()).isInstanceOf(IdempotencyStore.Unavailable.class);
            assertThat(payments.charges).hasValue(0);
        }
    }

    /** One of the store's calls for an item fails, on the real server behind a {@link FaultyDynamo}. */
    @Nested
    class StoreFaults {

        @Test
        void aThrottledCompletionReturnsTheOutputAndTheClaimHoldsTheKeyUntilItsDeadline() throws Exception {
            try (var proxy = FaultyDynamo.start(DYNALITE.endpoint()).on("PutItem", 2, FaultyDynamo.throttled());
                    var client = Dynalite.client(proxy.endpoint())) {
                ItemFunctions functions = functions(new DynamoDbIdempotencyStore(client, table), payments);
                // the side effect happened: failing the item would only run it again
                assertThat(value(one(functions, CHARGE)).get("run").intValue()).isEqualTo(1);
                Map<String, AttributeValue> claim = record("charge#order-1");
                assertThat(claim.get("status").s()).isEqualTo("IN_PROGRESS");

                Outcome.Failed<JsonNode> meanwhile = failed(one(functions, CHARGE));
                assertThat(meanwhile.retryable()).isTrue();
                assertThat(meanwhile.error()).isInstanceOf(Idempotency.InProgressElsewhere.class);
                assertThat(payments.charges).hasValue(1);

                // the documented window: once the claim ends, a redelivery runs again
                clock.now = Instant.ofEpochMilli(Long.parseLong(claim.get("inProgressUntil").n()) + 1);
                assertThat(value(one(functions, CHARGE)).get("run").intValue()).isEqualTo(2);
                assertThat(proxy.operations()).containsExactly("PutItem", "PutItem", "PutItem", "PutItem", "PutItem");
            }
        }

        @Test
        void aThrottledReleaseStillHandsTheFailureBackAndTheClaimEndsAtTheItemsDeadline() throws Exception {
            try (var proxy = FaultyDynamo.start(DYNALITE.endpoint()).on("DeleteItem", 1, FaultyDynamo.throttled());
                    var client = Dynalite.client(proxy.endpoint())) {
                ItemFunctions functions = functions(new DynamoDbIdempotencyStore(client, table), payments);
                payments.failuresToThrow.set(1);

                Outcome.Failed<JsonNode> first = failed(one(functions, CHARGE));
                assertThat(first.retryable()).isTrue();
                assertThat(first.error()).hasMessage("card service down");
                assertThat(first.error().getSuppressed()).singleElement()
                        .isInstanceOf(IdempotencyStore.Unavailable.class);
                Map<String, AttributeValue> claim = record("charge#order-1");
                assertThat(claim.get("status").s()).isEqualTo("IN_PROGRESS");

                clock.now = Instant.ofEpochMilli(Long.parseLong(claim.get("inProgressUntil").n()) + 1);
                assertThat(value(one(functions, CHARGE)).get("run").intValue()).isEqualTo(1);
                assertThat(payments.charges).hasValue(1);
            }
        }

        @Test
        void aRecordTheStoreRefusesAsTooLargeIsStoredAsTheOutputsDigest() throws Exception {
            try (var proxy = FaultyDynamo.start(DYNALITE.endpoint()).on("PutItem", 2, FaultyDynamo.tooLarge());
                    var client = Dynalite.client(proxy.endpoint())) {
                ItemFunctions functions = functions(new DynamoDbIdempotencyStore(client, table), payments);
                String item = "{\"id\":\"big\",\"type\":\"large\",\"payload\":10}";
                JsonNode first = value(one(functions, item));
                JsonNode again = value(one(functions, item));

                assertThat(first.textValue()).isEqualTo("x".repeat(10));
                assertThat(again.get("idempotency").textValue()).isEqualTo(
                        "output not stored: the store refused its record as too large; this is its digest");
                assertThat(again.get("outputBytes").longValue()).isEqualTo(12);
                assertThat(record("large#big")).doesNotContainKey("output").containsKey("outputSha256");
                assertThat(payments.charges).hasValue(1);
                // the claim, the refused completion, the completion without the output, the redelivery's claim
                assertThat(proxy.operations()).containsExactly("PutItem", "PutItem", "PutItem", "PutItem");
            }
        }

        @Test
        void anItemCutOffAfterItsSideEffectStillStoresItsCompletionSoTheRedeliveryDoesNotRunIt() throws Exception {
            ItemFunctions functions = functions(store, payments);
            payments.entered = new CountDownLatch(1);
            payments.release = new CountDownLatch(1);
            String item = "{\"id\":\"late\",\"type\":\"stubborn\",\"payload\":{}}";
            Outcome<JsonNode> cut = run(functions, Limits.of(4).withItemTimeout(Duration.ofMillis(300)), item)
                    .outcome(0);
            assertThat(cut.status()).isEqualTo(Outcome.Status.TIMED_OUT);
            assertThat(payments.entered.getCount()).isZero();

            payments.release.countDown(); // the function returns after its cut-off; its record is written anyway
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!record("stubborn#late").getOrDefault("status", AttributeValue.fromS("")).s().equals("COMPLETED")
                    && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            assertThat(record("stubborn#late").get("status").s()).isEqualTo("COMPLETED");
            assertThat(value(one(functions, item)).intValue()).isEqualTo(1);
            assertThat(payments.charges).hasValue(1);
        }

        @Test
        void aRefusedClaimAndItsFallbackReadShareTheItemsTime() throws Exception {
            try (Dynalite unpatched = Dynalite.start(false);
                    var proxy = FaultyDynamo.start(unpatched.endpoint())
                            .on("PutItem", 2, new FaultyDynamo.Fault.Late(Duration.ofMillis(1500)))
                            .on("GetItem", 1, new FaultyDynamo.Fault.Silent());
                    var client = Dynalite.client(proxy.endpoint())) {
                String held = unpatched.createTable();
                var store = new DynamoDbIdempotencyStore(client, held);
                var claim = new IdempotencyStore.InProgress("charge#order-1", "one", "h", T0.plusSeconds(5),
                        T0.plusSeconds(3605));
                assertThat(store.claim(claim, T0, Duration.ofSeconds(5))).isInstanceOf(IdempotencyStore.Claim.Claimed.class);

                long start = System.nanoTime();
                assertThatThrownBy(() -> store.claim(new IdempotencyStore.InProgress("charge#order-1", "two", "h",
                        T0.plusSeconds(5), T0.plusSeconds(3605)), T0, Duration.ofMillis(2000)))
                        .isInstanceOf(IdempotencyStore.Unavailable.class).hasMessageContaining("(read)");
                long tookMs = (System.nanoTime() - start) / 1_000_000;

                // the read had the 500 ms the write left, not 2 s of its own (3.5 s in all)
                assertThat(tookMs).isBetween(1_500L, 2_900L);
                assertThat(proxy.operations()).containsExactly("PutItem", "PutItem", "GetItem");
            }
        }

        @Test
        void aClockAheadByLessThanTheAllowanceDoesNotTakeALiveClaimOver() throws Exception {
            ItemFunctions functions = functions(store, payments);
            payments.entered = new CountDownLatch(1);
            payments.release = new CountDownLatch(1);
            Limits twoSecondItems = Limits.of(4).withItemTimeout(Duration.ofSeconds(2));
            CompletableFuture<BatchResult<JsonNode>> running = CompletableFuture.supplyAsync(
                    () -> run(functions, twoSecondItems, CHARGE));
            assertThat(payments.entered.await(10, TimeUnit.SECONDS)).isTrue();
            Instant until = Instant.ofEpochMilli(Long.parseLong(record("charge#order-1").get("inProgressUntil").n()));
            Instant deadline = until.minus(Idempotency.CLOCK_ALLOWANCE);

            // another run whose clock is past the holder's deadline, by less than the allowance
            SettableClock ahead = new SettableClock(deadline.plusMillis(500));
            Payments other = new Payments();
            Outcome.Failed<JsonNode> taker = failed(one(functions(store, other, ahead), CHARGE));
            assertThat(taker.error()).isInstanceOf(Idempotency.InProgressElsewhere.class);
            assertThat(other.charges).hasValue(0);

            payments.release.countDown();
            assertThat(value(running.get(10, TimeUnit.SECONDS).outcome(0)).get("run").intValue()).isEqualTo(1);
            ahead.now = until.plusSeconds(60); // past the claim, long before the completed record expires
            assertThat(value(one(functions(store, other, ahead), CHARGE)).get("run").intValue()).isEqualTo(1);
            assertThat(other.charges).hasValue(0);
        }
    }

    @Nested
    class AtStart {

        public static final class BadPointer {
            @Idempotent(key = "order")
            public int run(JsonNode payload) {
                return 0;
            }
        }

        public static final class NoPayload {
            @Idempotent(payload = "/x")
            public int run() {
                return 0;
            }
        }

        public static final class Twice {
            @Idempotent(key = { "/a", "/a" })
            public int run(JsonNode payload) {
                return 0;
            }
        }

        public static final class Marked {
            @Idempotent
            public int run(JsonNode payload) {
                return 0;
            }
        }

        ItemFunctions.Builder builderOf(Class<?> type, Idempotency idempotency) throws Exception {
            return ItemFunctions.builder(MAPPER).idempotency(idempotency)
                    .add("f", method(type, "run"), FunctionTarget.shared(type.getConstructor().newInstance()));
        }

        Idempotency withStore() {
            return new Idempotency(store, Duration.ofHours(1), Set.of(), clock);
        }

        @Test
        void aKeyThatIsNoJsonPointerFailsTheStartNamingTheMethod() {
            assertThatThrownBy(() -> builderOf(BadPointer.class, withStore()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("function 'f' (" + BadPointer.class.getName() + ".run(JsonNode)):"
                            + " @Idempotent(key) 'order' is not a JSON pointer (RFC 6901: empty, or starting with '/'): ");
        }

        @Test
        void payloadFieldsOnAFunctionWithoutPayloadFailTheStart() {
            assertThatThrownBy(() -> builderOf(NoPayload.class, withStore()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("function 'f' (" + NoPayload.class.getName() + ".run()) is @Idempotent with payload"
                            + " fields, but takes no payload: drop key/payload, or give it an input parameter");
        }

        @Test
        void aPointerNamedTwiceFailsTheStart() {
            assertThatThrownBy(() -> builderOf(Twice.class, withStore()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("function 'f' (" + Twice.class.getName() + ".run(JsonNode)): @Idempotent(key) names"
                            + " '/a' twice");
        }

        @Test
        void anIdempotentFunctionWithoutAStoreFailsTheStart() throws Exception {
            ItemFunctions.Builder builder = builderOf(Marked.class, Idempotency.NONE);
            assertThatThrownBy(builder::build)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("idempotent functions need a store, and none is configured: set fanout.idempotency.table"
                            + " (FANOUT_IDEMPOTENCY_TABLE) for ['f' (" + Marked.class.getName() + ".run(JsonNode))]");
        }

        @Test
        void aConfiguredNameThatIsNoFunctionFailsTheStart() throws Exception {
            ItemFunctions.Builder builder = builderOf(Marked.class,
                    new Idempotency(store, Duration.ofHours(1), Set.of("charge"), clock));
            assertThatThrownBy(builder::build)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("fanout.idempotency.functions (FANOUT_IDEMPOTENCY_FUNCTIONS) names 'charge', which is"
                            + " no function (functions: f)");
        }

        @Test
        void aTtlUnderOneSecondIsRefused() {
            assertThatThrownBy(() -> new Idempotency(store, Duration.ofMillis(999), Set.of(), clock))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("fanout.idempotency.ttl is PT0.999S: it must be 1 s or more");
        }
    }
}

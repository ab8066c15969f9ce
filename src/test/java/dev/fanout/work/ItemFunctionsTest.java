package dev.fanout.work;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.fanout.engine.Batch;
import dev.fanout.engine.BatchResult;
import dev.fanout.engine.Deadline;
import dev.fanout.engine.Limits;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.engine.Outcome;
import dev.fanout.engine.RejectedItemException;
import dev.fanout.engine.WorkerPool;
import dev.fanout.testing.JavaSources;
import dev.fanout.testing.TestFunctions;
import dev.fanout.work.builtin.DelayFunction;
import dev.fanout.work.builtin.DigestFunction;
import io.quarkus.funqy.Context;
import io.quarkus.funqy.runtime.ApplicationException;
import io.smallrye.mutiny.Uni;

/**
 * Item types as functions: binding, outputs, failures and the checks made when the registry is built. The
 * fixtures' methods carry no {@code @Funq}, or Funqy's scanner would add them to every {@code @QuarkusTest}
 * application; they are added by name, as {@link FunqyRegistry} adds what Funqy's registry holds.
 */
class ItemFunctionsTest {

    static final ObjectMapper MAPPER = new ObjectMapper();
    final ItemParser parser = new ItemParser(MAPPER, Optional.empty());

    BatchResult<JsonNode> run(ItemFunctions functions, Limits limits, Duration deadline, String... bodies) {
        List<ParsedItem> items = new ArrayList<>();
        for (int i = 0; i < bodies.length; i++) {
            items.add(parser.parse(bodies[i], "m-" + i, Optional.empty()));
        }
        return new WorkerPool(limits).run(Batch.of(items), functions.dispatcher(), Deadline.after(deadline));
    }

    BatchResult<JsonNode> run(ItemFunctions functions, String... bodies) {
        return run(functions, Limits.of(8), Duration.ofSeconds(30), bodies);
    }

    static String reason(Outcome<JsonNode> outcome) {
        return ((Outcome.Rejected<JsonNode>) outcome).reason();
    }

    static JsonNode value(Outcome<JsonNode> outcome) {
        return ((Outcome.Succeeded<JsonNode>) outcome).value();
    }

    static Outcome.Failed<JsonNode> failed(Outcome<JsonNode> outcome) {
        return (Outcome.Failed<JsonNode>) outcome;
    }

    static Method method(Class<?> type, String name) {
        for (Method method : type.getMethods()) {
            if (method.getName().equals(name)) {
                return method;
            }
        }
        throw new AssertionError("no method " + name);
    }

    /** A user's functions, of every shape an item type may take. */
    public static class Shapes {
        public record Name(String first, Nested nested) {
            public record Nested(int depth) {
            }
        }

        public record Greeting(String text) {
        }

        public final AtomicInteger pings = new AtomicInteger();

        public Greeting greet(Name name, @Context WorkContext item) {
            return new Greeting("Hello, " + name.first() + " (" + item.id() + ", " + item.type() + ", "
                    + item.group().orElse("-") + ", " + (item.remaining().toSeconds() > 0) + ")");
        }

        public void ping() {
            pings.incrementAndGet();
        }

        public Uni<Greeting> later(Name name) {
            return Uni.createFrom().item(new Greeting("Later, " + name.first()));
        }

        public Uni<Void> nothingLater() {
            return Uni.createFrom().voidItem();
        }

        public List<Integer> numbers(List<Integer> in) {
            return in.stream().map(i -> i * 2).toList();
        }

        public String nothingReturned() {
            return null;
        }

        public static String shout(String text) {
            return text.toUpperCase();
        }

        public String wrapped(String how) throws Exception {
            throw new ApplicationException(switch (how) {
                case "permanent" -> new NonRetryableException("for good");
                case "rejected" -> new RejectedItemException("bad item");
                default -> new IllegalStateException("for now");
            });
        }

        public Uni<String> failsLater(String how) {
            return Uni.createFrom().failure(how.equals("rejected") ? new RejectedItemException("bad later")
                    : new NonRetryableException("permanent later"));
        }

        public String error(String kind) {
            throw kind.equals("stack") ? new StackOverflowError("deep") : new AssertionError("broken");
        }
    }

    public static class Kinds {
        public record Detail(int n) {
        }

        public record All(String s, int i, boolean b, Map<String, Integer> m, List<Integer> l, Detail d, String checked) {
            public All {
                if (checked != null && checked.isBlank()) {
                    throw new IllegalArgumentException("'checked' must not be blank");
                }
            }
        }

        public All kinds(All all) {
            return all;
        }
    }

    static ItemFunctions shapes(Shapes shapes) {
        var builder = ItemFunctions.builder(MAPPER);
        for (String name : List.of("greet", "ping", "later", "nothingLater", "numbers", "nothingReturned", "shout",
                "wrapped", "failsLater", "error")) {
            builder.add(name, method(Shapes.class, name), name.equals("shout") ? FunctionTarget.none()
                    : FunctionTarget.shared(shapes));
        }
        return builder.build();
    }

    @Nested
    class Calls {

        final Shapes target = new Shapes();
        final ItemFunctions functions = shapes(target);

        @Test
        void thePayloadIsTheInputTheReturnValueTheOutputAndTheContextIsInjected() {
            var result = run(functions,
                    "{\"id\":\"a\",\"type\":\"greet\",\"group\":\"g\",\"payload\":{\"first\":\"Ada\",\"nested\":{\"depth\":2}}}",
                    "{\"type\":\"numbers\",\"payload\":[1,2,3]}",
                    "{\"type\":\"shout\",\"payload\":\"hi\"}");
            assertThat(value(result.outcome(0)).toString()).isEqualTo("{\"text\":\"Hello, Ada (a, greet, g, true)\"}");
            assertThat(value(result.outcome(1)).toString()).isEqualTo("[2,4,6]");
            assertThat(value(result.outcome(2)).asText()).isEqualTo("HI");
        }

        @Test
        void voidFunctionsGiveNoOutputAndNullIsJsonNull() {
            var result = run(functions, "{\"type\":\"ping\"}", "{\"type\":\"nothingLater\"}",
                    "{\"type\":\"nothingReturned\",\"payload\":null}");
            assertThat(((Outcome.Succeeded<JsonNode>) result.outcome(0)).value()).isNull();
            assertThat(((Outcome.Succeeded<JsonNode>) result.outcome(1)).value()).isNull();
            assertThat(value(result.outcome(2)).isNull()).isTrue();
            assertThat(target.pings).hasValue(1);
        }

        @Test
        void aUniIsAwaitedOnTheItemsThread() {
            var result = run(functions, "{\"type\":\"later\",\"payload\":{\"first\":\"Bo\"}}");
            assertThat(value(result.outcome(0)).toString()).isEqualTo("{\"text\":\"Later, Bo\"}");
        }

        @Test
        void failuresKeepTheirMeaningThroughFunqysWrappersAndUnis() {
            var result = run(functions, "{\"type\":\"wrapped\",\"payload\":\"permanent\"}",
                    "{\"type\":\"wrapped\",\"payload\":\"rejected\"}", "{\"type\":\"wrapped\",\"payload\":\"now\"}",
                    "{\"type\":\"failsLater\",\"payload\":\"rejected\"}", "{\"type\":\"failsLater\",\"payload\":\"x\"}");
            assertThat(failed(result.outcome(0)).retryable()).isFalse();
            assertThat(failed(result.outcome(0)).error()).isInstanceOf(NonRetryableException.class).hasMessage("for good");
            assertThat(reason(result.outcome(1))).isEqualTo("bad item");
            assertThat(failed(result.outcome(2)).retryable()).isTrue();
            assertThat(failed(result.outcome(2)).error()).isInstanceOf(IllegalStateException.class).hasMessage("for now");
            assertThat(reason(result.outcome(3))).isEqualTo("bad later");
            assertThat(failed(result.outcome(4)).retryable()).isFalse();
        }

        @Test
        void funqysInternalErrorIsTakenOffToo() {
            var functions = TestFunctions.builder(MAPPER)
                    .register("internal", (payload, item) -> {
                        throw new io.quarkus.funqy.runtime.InternalError(new NonRetryableException("inner"));
                    })
                    .register("bare", (payload, item) -> {
                        throw new io.quarkus.funqy.runtime.InternalError("no cause");
                    }).build();
            var result = run(functions, "{\"type\":\"internal\"}", "{\"type\":\"bare\"}");
            assertThat(failed(result.outcome(0)).retryable()).isFalse();
            assertThat(failed(result.outcome(0)).error()).isInstanceOf(NonRetryableException.class).hasMessage("inner");
            assertThat(failed(result.outcome(1)).error()).isInstanceOf(io.quarkus.funqy.runtime.InternalError.class)
                    .hasMessage("no cause");
        }

        @Test
        void aPublicMethodOfAClassThatIsNotPublicIsCalled() throws Exception {
            // in a package of its own, loaded by a loader of its own: no access but through the method's own
            Path classes = JavaSources.compile("dev.fanout.fixtures", Map.of("Hidden",
                    "class Hidden { public String call(String in) { return \"hidden \" + in; } }"));
            Object hidden = JavaSources.instance(classes, "dev.fanout.fixtures.Hidden");
            var functions = ItemFunctions.builder(MAPPER).add("hidden", hidden.getClass().getMethod("call", String.class),
                    FunctionTarget.shared(hidden)).build();
            assertThat(value(run(functions, "{\"type\":\"hidden\",\"payload\":\"x\"}").outcome(0)).asText())
                    .isEqualTo("hidden x");
        }

        @Test
        void aJsonOutputIsTheOutputAsItIs() {
            var json = MAPPER.createObjectNode().put("k", 1);
            var functions = TestFunctions.builder(MAPPER).register("json", (payload, item) -> json).build();
            assertThat(value(run(functions, "{\"type\":\"json\"}").outcome(0))).isSameAs(json);
            assertThat(functions.has("json")).isTrue();
            assertThat(functions.has("jso")).isFalse();
        }

        @Test
        void anErrorFailsItsItemRetryablyAndNeverTheBatch() {
            var result = run(functions, "{\"type\":\"error\",\"payload\":\"stack\"}",
                    "{\"type\":\"error\",\"payload\":\"assert\"}", "{\"type\":\"shout\",\"payload\":\"ok\"}");
            assertThat(failed(result.outcome(0)).retryable()).isTrue();
            assertThat(failed(result.outcome(0)).error()).isInstanceOf(StackOverflowError.class);
            assertThat(failed(result.outcome(1)).error()).isInstanceOf(AssertionError.class).hasMessage("broken");
            assertThat(value(result.outcome(2)).asText()).isEqualTo("OK");
        }
    }

    @Nested
    class BadInput {

        final ItemFunctions functions = shapes(new Shapes());

        @Test
        void unknownTypesAreRejectedNamingTheKnownFunctions() {
            var result = run(functions, "{\"type\":\"zzz\"}", "{oops");
            assertThat(reason(result.outcome(0))).isEqualTo("unknown item type 'zzz' (known types: error, failsLater,"
                    + " greet, later, nothingLater, nothingReturned, numbers, ping, shout, wrapped)");
            assertThat(reason(result.outcome(1))).startsWith("item is not valid JSON");
        }

        @Test
        void twentyNamesAreListedWhole() {
            var builder = TestFunctions.builder(MAPPER);
            IntStream.range(0, 20).forEach(i -> builder.register("f%02d".formatted(i), (payload, item) -> i));
            var result = run(builder.build(), "{\"type\":\"zzz\"}");
            assertThat(reason(result.outcome(0))).isEqualTo("unknown item type 'zzz' (known types: "
                    + String.join(", ", IntStream.range(0, 20).mapToObj("f%02d"::formatted).toList()) + ")");
        }

        @Test
        void eachMismatchNamesTheTypeTheFieldMustHave() {
            var functions = ItemFunctions.builder(MAPPER).add("kinds", method(Kinds.class, "kinds"),
                    FunctionTarget.shared(new Kinds())).build();
            var result = run(functions, "{\"type\":\"kinds\",\"payload\":{\"s\":{}}}",
                    "{\"type\":\"kinds\",\"payload\":{\"i\":[1]}}",
                    "{\"type\":\"kinds\",\"payload\":{\"b\":{}}}",
                    "{\"type\":\"kinds\",\"payload\":{\"m\":[1]}}",
                    "{\"type\":\"kinds\",\"payload\":{\"l\":{}}}",
                    "{\"type\":\"kinds\",\"payload\":{\"d\":[1]}}",
                    "{\"type\":\"kinds\",\"payload\":{\"i\":1,\"b\":true,\"checked\":\"\"}}",
                    "{\"type\":\"kinds\",\"payload\":{\"i\":null}}");
            assertThat(reason(result.outcome(0))).isEqualTo("'kinds' payload: field 's' must be a string");
            assertThat(reason(result.outcome(1))).isEqualTo("'kinds' payload: field 'i' must be a number");
            assertThat(reason(result.outcome(2))).isEqualTo("'kinds' payload: field 'b' must be a boolean");
            assertThat(reason(result.outcome(3))).isEqualTo("'kinds' payload: field 'm' must be an object");
            assertThat(reason(result.outcome(4))).isEqualTo("'kinds' payload: field 'l' must be an array");
            assertThat(reason(result.outcome(5))).isEqualTo("'kinds' payload: field 'd' must be an object");
            assertThat(reason(result.outcome(6))).isEqualTo("'kinds' payload: 'checked' must not be blank");
            assertThat(reason(result.outcome(7))).isEqualTo("'kinds' payload: field 'i' must be a number");
        }

        @Test
        void theReasonListsTwentyNamesAtMost() {
            var builder = TestFunctions.builder(MAPPER);
            IntStream.range(0, 25).forEach(i -> builder.register("f%02d".formatted(i), (payload, item) -> i));
            var result = run(builder.build(), "{\"type\":\"zzz\"}");
            assertThat(reason(result.outcome(0))).isEqualTo("unknown item type 'zzz' (known types: "
                    + String.join(", ", IntStream.range(0, 20).mapToObj("f%02d"::formatted).toList()) + " and 5 more)");
        }

        @Test
        void aPayloadThatDoesNotFitTheInputIsRejectedWithTheReason() {
            var result = run(functions,
                    "{\"type\":\"greet\",\"payload\":\"Ada\"}",
                    "{\"type\":\"greet\",\"payload\":{\"first\":\"Ada\",\"last\":\"L\"}}",
                    "{\"type\":\"greet\",\"payload\":{\"first\":\"Ada\",\"nested\":{\"depth\":\"deep\"}}}",
                    "{\"type\":\"greet\"}",
                    "{\"type\":\"greet\",\"payload\":null}",
                    "{\"type\":\"ping\",\"payload\":{}}",
                    "{\"type\":\"numbers\",\"payload\":{\"a\":1}}");
            assertThat(reason(result.outcome(0))).isEqualTo("'greet' payload: must be an object");
            assertThat(reason(result.outcome(1))).isEqualTo("'greet' payload: unknown field 'last'");
            assertThat(reason(result.outcome(2))).isEqualTo("'greet' payload: field 'nested.depth' has an invalid value: deep");
            assertThat(reason(result.outcome(3))).isEqualTo("'greet' payload: missing");
            assertThat(reason(result.outcome(4))).isEqualTo("'greet' payload: missing");
            assertThat(reason(result.outcome(5))).isEqualTo("'ping' takes no payload, but the item has one");
            assertThat(reason(result.outcome(6))).isEqualTo("'numbers' payload: must be an array");
        }

        @Test
        void aUniFunctionThatReturnsNullFailsItsItem() {
            var functions = TestFunctions.builder(MAPPER).registerAsync("broken", (payload, item) -> null).build();
            var result = run(functions, "{\"type\":\"broken\"}");
            assertThat(failed(result.outcome(0)).error()).hasMessage("function 'broken' returned null instead of a Uni");
        }
    }

    /** What the registry refuses when it is built, at start: each message names the method. */
    @Nested
    class Misuse {

        public static class Wrong {
            public String two(String a, String b) {
                return a + b;
            }

            public String foreignContext(String a, @Context String context) {
                return a;
            }

            @SuppressWarnings("rawtypes")
            public Uni raw() {
                return Uni.createFrom().item("x");
            }

            public String one(String a) {
                return a;
            }

            public String other(String a) {
                return a;
            }
        }

        final FunctionTarget target = FunctionTarget.shared(new Wrong());

        @Test
        void twoFunctionsOfOneNameAreRefusedNamingBoth() {
            var builder = ItemFunctions.builder(MAPPER).add("same", method(Wrong.class, "one"), target)
                    .add("same", method(Wrong.class, "other"), target);
            assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class).hasMessage(
                    "two functions share a name, so an item of that type could run either: 'same' is the name of "
                            + Wrong.class.getName() + ".one(String) and " + Wrong.class.getName()
                            + ".other(String). Give each its own @Funq(\"name\")");
        }

        @Test
        void moreThanOneInputIsRefused() {
            assertThatThrownBy(() -> ItemFunctions.builder(MAPPER).add("two", method(Wrong.class, "two"), target))
                    .hasMessage("function 'two' (" + Wrong.class.getName() + ".two(String, String)) has more than one"
                            + " input parameter: an item has one payload; mark the others @Context, or take one record");
        }

        @Test
        void aContextOfATypeFanoutDoesNotProvideIsRefused() {
            assertThatThrownBy(() -> ItemFunctions.builder(MAPPER).add("fc", method(Wrong.class, "foreignContext"), target))
                    .hasMessage("function 'fc' (" + Wrong.class.getName() + ".foreignContext(String, String)): its"
                            + " @Context parameter 2 is a java.lang.String, but Fanout provides dev.fanout.work.WorkContext only");
        }

        @Test
        void aRawUniIsRefused() {
            assertThatThrownBy(() -> ItemFunctions.builder(MAPPER).add("raw", method(Wrong.class, "raw"), target))
                    .hasMessage("function 'raw' (" + Wrong.class.getName() + ".raw()) returns a raw Uni: give it its"
                            + " item type, Uni<Output>");
        }

        @Test
        void aNameNoItemCanReachIsRefused() {
            for (String name : List.of("", " ", " one", "one ", "tab\there")) {
                assertThatThrownBy(() -> ItemFunctions.builder(MAPPER).add(name, method(Wrong.class, "one"), target))
                        .hasMessage("function " + Wrong.class.getName() + ".one(String) is named '" + name + "', which"
                                + " no item can name as its type: give @Funq a name without blanks at its ends or"
                                + " control characters");
            }
        }

        @Test
        void everyFunqMethodOfAnObjectIsAddedUnderItsFunqyName() {
            Path classes = JavaSources.compile("dev.fanout.fixtures", Map.of("Named", "public class Named {"
                    + " @io.quarkus.funqy.Funq public String plain(String s) { return \"plain \" + s; }"
                    + " @io.quarkus.funqy.Funq(\"renamed\") public String other(String s) { return \"other \" + s; }"
                    + " public String notAFunction(String s) { return s; } }"));
            var functions = ItemFunctions.builder(MAPPER)
                    .add(JavaSources.instance(classes, "dev.fanout.fixtures.Named")).build();
            assertThat(functions.types()).containsExactly("plain", "renamed");
            var result = run(functions, "{\"type\":\"plain\",\"payload\":\"a\"}",
                    "{\"type\":\"renamed\",\"payload\":\"b\"}");
            assertThat(value(result.outcome(0)).asText()).isEqualTo("plain a");
            assertThat(value(result.outcome(1)).asText()).isEqualTo("other b");
        }

        @Test
        void anObjectWithoutFunctionsIsRefused() {
            assertThatThrownBy(() -> ItemFunctions.builder(MAPPER).add(new Wrong()))
                    .hasMessage(Wrong.class.getName() + " has no public @Funq method");
        }
    }

    @Nested
    class Targets {

        @Test
        void aNewInstancePerItemIsReleasedWhenItsItemEnds() {
            var open = new AtomicInteger();
            var released = new AtomicInteger();
            FunctionTarget perItem = () -> {
                open.incrementAndGet();
                Shapes instance = new Shapes();
                return new FunctionTarget.Lease() {
                    public Object instance() {
                        return instance;
                    }

                    public void close() {
                        released.incrementAndGet();
                    }
                };
            };
            var functions = ItemFunctions.builder(MAPPER).add("shout", method(Shapes.class, "shout"), perItem)
                    .add("wrapped", method(Shapes.class, "wrapped"), perItem).build();
            var bodies = new ArrayList<String>();
            for (int i = 0; i < 1000; i++) {
                bodies.add(i % 2 == 0 ? "{\"type\":\"shout\",\"payload\":\"x\"}" : "{\"type\":\"wrapped\",\"payload\":\"now\"}");
            }
            var result = run(functions, Limits.of(64), Duration.ofSeconds(30), bodies.toArray(String[]::new));
            assertThat(result.summary().succeeded()).isEqualTo(500);
            assertThat(open).hasValue(1000);
            assertThat(released).hasValue(1000); // failed calls release theirs too
        }
    }

    @Nested
    class Builtins {

        final ItemFunctions functions = ItemFunctions.builder(MAPPER).add(new DigestFunction(5_000))
                .add(new DelayFunction(Duration.ofSeconds(60))).build();

        @Test
        void theBuiltInsAreFunctionsNamedByTheirFunq() {
            assertThat(functions.types()).containsExactly("delay", "digest");
        }

        @Test
        void digestHashesRoundsTimes() throws Exception {
            var result = run(functions, "{\"type\":\"digest\",\"payload\":{\"data\":\"abc\"}}",
                    "{\"type\":\"digest\",\"payload\":{\"data\":\"abc\",\"rounds\":2}}",
                    "{\"type\":\"digest\",\"payload\":{\"data\":\"abc\",\"rounds\":5001}}",
                    "{\"type\":\"digest\",\"payload\":{\"rounds\":2}}");
            // SHA-256("abc") from FIPS 180-2
            assertThat(value(result.outcome(0)).get("sha256").asText())
                    .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
            var once = java.security.MessageDigest.getInstance("SHA-256").digest("abc".getBytes());
            var twice = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(once));
            assertThat(value(result.outcome(1)).get("sha256").asText()).isEqualTo(twice);
            assertThat(reason(result.outcome(2))).isEqualTo("field 'rounds' must be between 1 and 5000, was 5001");
            assertThat(reason(result.outcome(3))).isEqualTo("'digest' payload: field 'data' is required");
        }

        @Test
        void aLongDigestStopsAtTheCutOff() {
            var big = ItemFunctions.builder(MAPPER).add(new DigestFunction(Integer.MAX_VALUE)).build();
            // cut-off after 300 ms; then up to 1.2 s (a busy machine's worth) for the digest to notice
            var result = run(big, Limits.of(1).withCutoffMargin(Duration.ofMillis(1200)).withCancelGrace(Duration.ofMillis(1200)),
                    Duration.ofMillis(1500), "{\"type\":\"digest\",\"payload\":{\"data\":\"x\",\"rounds\":2000000000}}");
            assertThat(result.outcome(0).status()).isEqualTo(Outcome.Status.TIMED_OUT);
            assertThat(result.summary().abandoned()).isZero(); // it checked its cancellation and stopped
        }

        @Test
        void aDelayThatIgnoresCancellationIsAbandonedAtTheCutOffAndSleepsOnWithoutSpinning() throws Exception {
            var itemThread = new AtomicReference<Thread>();
            var delay = new DelayFunction(Duration.ofSeconds(60));
            var probed = TestFunctions.builder(MAPPER).register("delay", (payload, item) -> {
                itemThread.set(Thread.currentThread());
                return delay.delay(MAPPER.treeToValue(payload, DelayFunction.Input.class));
            }).build();
            // cut-off after 300 ms, 100 ms of grace; the item sleeps 3 s whatever happens
            var result = run(probed, Limits.of(1).withCutoffMargin(Duration.ofMillis(1200)).withCancelGrace(Duration.ofMillis(100)),
                    Duration.ofMillis(1500), "{\"type\":\"delay\",\"payload\":{\"millis\":3000,\"ignoreCancellation\":true}}");

            assertThat(result.outcome(0).status()).isEqualTo(Outcome.Status.TIMED_OUT);
            assertThat(result.summary().abandoned()).isEqualTo(1);
            // interrupted, yet asleep: a function that parked again with the flag still set would spin (RUNNABLE)
            Thread item = itemThread.get();
            assertThat(item.isAlive()).isTrue();
            assertThat(item.getState()).isEqualTo(Thread.State.TIMED_WAITING);
            item.join(Duration.ofSeconds(10));
            assertThat(item.isAlive()).isFalse();
        }

        @Test
        void delayWaitsAndFailsOnDemand() {
            var result = run(functions, "{\"type\":\"delay\",\"payload\":{\"millis\":3}}",
                    "{\"type\":\"delay\",\"payload\":{\"failRate\":1}}",
                    "{\"type\":\"delay\",\"payload\":{\"failRate\":1,\"permanent\":true}}",
                    "{\"type\":\"delay\",\"payload\":{\"millis\":-1}}",
                    "{\"type\":\"delay\",\"payload\":{\"failRate\":1.5}}");
            assertThat(value(result.outcome(0)).get("sleptMillis").asInt()).isEqualTo(3);
            assertThat(failed(result.outcome(1)).retryable()).isTrue();
            assertThat(failed(result.outcome(2)).retryable()).isFalse();
            assertThat(reason(result.outcome(3))).isEqualTo("field 'millis' must be between 0 and 60000, was -1");
            assertThat(reason(result.outcome(4))).isEqualTo("field 'failRate' must be between 0 and 1, was 1.5");
        }
    }

    @Nested
    class Async {

        @Test
        void anUnfinishedUniIsCancelledAtTheCutOff() throws Exception {
            var cancelled = new CountDownLatch(1);
            var functions = TestFunctions.builder(MAPPER)
                    .registerAsync("later", (payload, item) -> Uni.createFrom().<Object>item("done").onItem().delayIt()
                            .by(Duration.ofMillis(5)))
                    .registerAsync("never", (payload, item) -> Uni.createFrom().emitter(e -> {
                    }).onCancellation().invoke(cancelled::countDown))
                    .build();
            var result = run(functions, Limits.of(4).withCutoffMargin(Duration.ofMillis(200))
                    .withCancelGrace(Duration.ofMillis(100)), Duration.ofMillis(700),
                    "{\"type\":\"later\"}", "{\"type\":\"never\"}");
            assertThat(value(result.outcome(0)).asText()).isEqualTo("done");
            assertThat(result.outcome(1).status()).isEqualTo(Outcome.Status.TIMED_OUT);
            assertThat(cancelled.await(10, TimeUnit.SECONDS)).isTrue();
        }

        @Test
        void outputsOfAnyShapeBecomeJson() {
            record Point(int x, int y) {
            }
            var functions = TestFunctions.builder(MAPPER).register("point", (payload, item) -> new Point(1, 2))
                    .register("map", (payload, item) -> Map.of("k", List.of(1, 2))).build();
            var result = run(functions, "{\"type\":\"point\"}", "{\"type\":\"map\"}");
            assertThat(value(result.outcome(0)).toString()).isEqualTo("{\"x\":1,\"y\":2}");
            assertThat(value(result.outcome(1)).toString()).isEqualTo("{\"k\":[1,2]}");
        }
    }
}

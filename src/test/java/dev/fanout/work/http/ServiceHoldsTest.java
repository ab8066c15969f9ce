package dev.fanout.work.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.type;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.fanout.engine.ManualTicker;

/**
 * The registry alone, with calls that answer what each test says and a clock that moves only when the test moves it.
 * Items that wait for a probe run on threads of their own; the test sees them waiting by their thread's state.
 */
class ServiceHoldsTest {

    static final Duration LEFT = Duration.ofSeconds(5);

    final ManualTicker ticker = new ManualTicker();
    /** Holds a service when it asks; {@link AServiceThatIsDown} puts one that holds after failures too. */
    ServiceHolds holds = new ServiceHolds(ServiceHolds.CAPACITY, ServiceHolds.MAX_HOLD, ticker);
    final AtomicInteger calls = new AtomicInteger();
    final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    static OutboundRequest hop(String url) {
        return new OutboundRequest("GET", URI.create(url), Map.of(), null, null);
    }

    static Response answer(int status, String retryAfter) {
        return new Response(status, Map.of(), null, retryAfter, null, new byte[0], false);
    }

    Response send(String url, Response answer) throws Exception {
        return holds.send(hop(url), LEFT, h -> {
            calls.incrementAndGet();
            return answer;
        });
    }

    /** {@link #send} inside another item's call. */
    void sendFromACall(String url, Response answer) throws Exception {
        send(url, answer);
    }

    HttpCallException held(String url) {
        try {
            send(url, answer(200, null));
        } catch (HttpCallException e) {
            return e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError(url + " was sent");
    }

    @Nested
    class Holding {

        @Test
        void a503WithRetryAfterHoldsTheWholeServiceUntilTheWaitEnds() throws Exception {
            send("http://api.example:8080/a", answer(503, "10"));
            assertThat(calls).hasValue(1);

            ticker.advance(Duration.ofSeconds(4));
            HttpCallException e = held("http://API.example:8080/other/path?q=1");
            assertThat(e).hasMessage("not sent: http://api.example:8080 answered 503 with Retry-After 10 s");
            assertThat(e.status()).isEqualTo(503);
            assertThat(e.retryAfter()).contains(Duration.ofSeconds(6));
            assertThat(calls).as("the held item is not sent").hasValue(1);

            // another port, another scheme, another host: other services
            send("http://api.example:8081/a", answer(200, null));
            send("https://api.example:8080/a", answer(200, null));
            send("http://other.example:8080/a", answer(200, null));
            assertThat(calls).hasValue(4);

            ticker.advance(Duration.ofSeconds(6));
            send("http://api.example:8080/a", answer(200, null));
            assertThat(calls).as("the wait is over: sent").hasValue(5);
            assertThat(holds.size()).as("a 200 from the first call after the wait lifts the hold").isZero();
        }

        @Test
        void a429HoldsAsA503Does() throws Exception {
            send("http://api.example/a", answer(429, "3"));
            assertThat(held("http://api.example:80/b").retryAfter()).contains(Duration.ofSeconds(3));
            assertThat(held("http://api.example/b").status()).isEqualTo(429);
        }

        @Test
        void theDefaultPortIsTheSchemesOwn() throws Exception {
            send("https://api.example/a", answer(503, "10"));
            assertThat(held("https://api.example:443/a").retryAfter()).contains(Duration.ofSeconds(10));
            send("http://api.example:443/a", answer(200, null));
            assertThat(calls).hasValue(2);
        }

        @ParameterizedTest(name = "{0} with Retry-After \"{1}\"")
        @CsvSource(nullValues = "none", value = {
                "500, 10", "502, 10", "504, 10", "200, 10", "503, none", "429, none", "503, 0", "503, soon", "503, -5" })
        void otherAnswersHoldNothing(int status, String retryAfter) throws Exception {
            send("http://api.example/a", answer(status, retryAfter));
            send("http://api.example/a", answer(200, null));
            assertThat(calls).hasValue(2);
            assertThat(holds.size()).isZero();
        }

        @Test
        void anHttpDateHoldsUntilThatTime() throws Exception {
            String inAMinute = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
                    .format(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(60));
            send("http://api.example/a", answer(503, inAMinute));
            assertThat(held("http://api.example/a").retryAfter()).hasValueSatisfying(
                    wait -> assertThat(wait).isBetween(Duration.ofSeconds(58), Duration.ofSeconds(60)));
        }

        @Test
        void aHoldIsAtMostMaxHold() throws Exception {
            send("http://api.example/a", answer(503, "999999999"));
            assertThat(held("http://api.example/a").retryAfter()).contains(ServiceHolds.MAX_HOLD);
            assertThat(held("http://api.example/a")).hasMessageEndingWith("with Retry-After 999999999 s");
        }

        @Test
        void aLongerWaitExtendsTheHold() throws Exception {
            // two items of the first wave in flight together: b, sent before the hold, answers after a, with a longer wait
            holds.send(hop("http://api.example/b"), LEFT, h -> {
                sendFromACall("http://api.example/a", answer(503, "5"));
                return answer(503, "20");
            });
            assertThat(held("http://api.example/c").retryAfter()).contains(Duration.ofSeconds(20));
        }

        @Test
        void aLaterShorterAnswerOfTheFirstWaveKeepsTheLongerHold() throws Exception {
            holds.send(hop("http://api.example/b"), LEFT, h -> {
                sendFromACall("http://api.example/a", answer(503, "20"));
                return answer(503, "5");
            });
            assertThat(held("http://api.example/c").retryAfter()).contains(Duration.ofSeconds(20));
        }

        @Test
        void theLeastRecentlyUsedServiceIsForgottenBeyondCapacity() throws Exception {
            var small = new ServiceHolds(2, ServiceHolds.MAX_HOLD, ticker);
            for (String host : List.of("a", "b", "c")) {
                small.send(hop("http://" + host + ".example/"), LEFT, h -> answer(503, "60"));
            }
            assertThat(small.size()).isEqualTo(2);
            small.send(hop("http://a.example/"), LEFT, h -> {
                calls.incrementAndGet();
                return answer(200, null);
            });
            assertThat(calls).as("a was forgotten: sent").hasValue(1);
            assertThatThrownBy(() -> small.send(hop("http://c.example/"), LEFT, h -> answer(200, null)))
                    .isInstanceOf(HttpCallException.class);
        }

        @Test
        void offKeepsNothingAndSendsEverything() throws Exception {
            var off = ServiceHolds.off();
            for (int i = 0; i < 6; i++) {
                Response got = off.send(hop("http://api.example/"), LEFT, h -> {
                    calls.incrementAndGet();
                    return answer(503, "60");
                });
                assertThat(got.status()).isEqualTo(503);
            }
            assertThat(calls).hasValue(6);
            assertThat(off.size()).isZero();
        }

        @Test
        void clearForgetsEveryHold() throws Exception {
            send("http://api.example/a", answer(503, "60"));
            holds.clear();
            assertThat(holds.size()).isZero();
            send("http://api.example/a", answer(200, null));
            assertThat(calls).hasValue(2);
        }

        @Test
        void badSettingsAreRefused() {
            assertThatThrownBy(() -> new ServiceHolds(-1, ServiceHolds.MAX_HOLD, ticker))
                    .hasMessage("capacity must not be negative, was -1");
            assertThatThrownBy(() -> new ServiceHolds(1, Duration.ZERO, ticker)).hasMessage("maxHold must be positive, was PT0S");
            assertThatThrownBy(() -> new ServiceHolds(1, Duration.ofSeconds(-1), ticker))
                    .hasMessage("maxHold must be positive, was PT-1S");
        }
    }

    /** A service that fails without saying when to come back: held after {@code HOLD_AFTER_FAILURES} in a row. */
    @Nested
    class AServiceThatIsDown {

        @org.junit.jupiter.api.BeforeEach
        void holdAfterFailures() {
            holds = new ServiceHolds(ServiceHolds.CAPACITY, ServiceHolds.MAX_HOLD, ServiceHolds.HOLD_AFTER_FAILURES, ticker);
        }

        void refuse(String url) {
            assertThatThrownBy(() -> holds.send(hop(url), LEFT, h -> {
                calls.incrementAndGet();
                throw new IOException("connect failed", new java.net.ConnectException("Connection refused"));
            })).isInstanceOf(IOException.class).hasMessage("connect failed");
        }

        void fail(String url, int times) throws Exception {
            for (int i = 0; i < times; i++) {
                assertThat(send(url, answer(503, null)).status()).isEqualTo(503);
            }
        }

        @Test
        void fiveFailuresInARowHoldTheServiceForASecond() throws Exception {
            fail("http://api.example/a", 4);
            assertThat(holds.size()).as("four: not yet").isZero();
            fail("http://api.example/b", 1);

            HttpCallException e = held("http://api.example:80/c");
            assertThat(e).hasMessage("not sent: http://api.example:80 is held 1 s: 5 failures in a row,"
                    + " the last a 503 without Retry-After");
            assertThat(e.status()).isEqualTo(503);
            assertThat(e.retryAfter()).contains(Duration.ofSeconds(1));
            assertThat(calls).hasValue(5);

            send("http://other.example/a", answer(200, null));
            assertThat(calls).as("another service is not held").hasValue(6);
        }

        @Test
        void anAnswerInBetweenEndsTheRun() throws Exception {
            fail("http://api.example/a", 4);
            send("http://api.example/a", answer(500, null));
            fail("http://api.example/a", 3);
            send("http://api.example/a", answer(503, "0")); // a wait of nothing: a failure, the 4th
            assertThat(holds.size()).isZero();
            send("http://api.example/a", answer(200, null));
            fail("http://api.example/a", 4);
            assertThat(holds.size()).isZero();
            assertThat(calls).hasValue(14);
            send("http://api.example/a", answer(503, "0"));
            assertThat(held("http://api.example/a").retryAfter()).contains(Duration.ofSeconds(1));
        }

        @Test
        void a429NeitherCountsNorEndsTheRun() throws Exception {
            fail("http://api.example/a", 3);
            send("http://api.example/a", answer(429, null));
            send("http://api.example/a", answer(429, "soon"));
            assertThat(holds.size()).isZero();
            fail("http://api.example/a", 2);
            assertThat(held("http://api.example/a").retryAfter()).contains(Duration.ofSeconds(1));
        }

        @Test
        void aRefusedConnectionCountsAndATimeoutDoesNotEndTheRun() throws Exception {
            for (int i = 0; i < 3; i++) {
                refuse("http://api.example/a");
            }
            assertThatThrownBy(() -> holds.send(hop("http://api.example/a"), LEFT, h -> {
                throw new HttpCallException(0, null, "timed out", new java.net.SocketTimeoutException());
            })).hasMessage("timed out");
            fail("http://api.example/a", 1);
            refuse("http://api.example/a");

            HttpCallException e = held("http://api.example/a");
            assertThat(e).hasMessage("not sent: http://api.example:80 is held 1 s: 5 failures in a row,"
                    + " the last a refused connection");
            assertThat(e.status()).isEqualTo(503);
        }

        @Test
        void eachFailedFirstCallAfterAHoldDoublesTheNextUpToAMinute() throws Exception {
            fail("http://api.example/a", 5);
            List<Long> heldFor = new ArrayList<>();
            for (int hold = 0; hold < 9; hold++) {
                Duration rest = held("http://api.example/a").retryAfter().orElseThrow();
                heldFor.add(rest.toSeconds());
                ticker.advance(rest);
                fail("http://api.example/probe", 1); // the first call after the hold: sent, and it fails
            }
            assertThat(heldFor).containsExactly(1L, 2L, 4L, 8L, 16L, 32L, 60L, 60L, 60L);
            assertThat(calls).as("the first wave's 5 and one call per hold").hasValue(5 + 9);

            ticker.advance(Duration.ofSeconds(60));
            send("http://api.example/probe", answer(204, null));
            assertThat(holds.size()).as("an answer lifts the hold").isZero();
            fail("http://api.example/a", 4);
            assertThat(holds.size()).as("and ends the run: 4 new failures hold nothing").isZero();
            fail("http://api.example/a", 1);
            assertThat(held("http://api.example/a").retryAfter()).as("a new run starts at 1 s again")
                    .contains(Duration.ofSeconds(1));
        }

        @Test
        void aFailureOfTheFirstWaveThatEndsDuringAHoldNeitherExtendsNorDoublesIt() throws Exception {
            // the outer call was sent before the hold; its 503 comes after the inner calls set it
            holds.send(hop("http://api.example/slow"), LEFT, h -> {
                fail("http://api.example/a", 5);
                return answer(503, null);
            });
            assertThat(held("http://api.example/a").retryAfter()).contains(Duration.ofSeconds(1));
            ticker.advance(Duration.ofSeconds(1));
            fail("http://api.example/probe", 1);
            assertThat(held("http://api.example/a").retryAfter()).as("the second hold").contains(Duration.ofSeconds(2));
        }

        @Test
        void anItemLetThroughBeforeTheHoldIsNotSentWhenItWaitedUntilAfterIt() throws Exception {
            var sent = new java.util.concurrent.atomic.AtomicBoolean();
            assertThatThrownBy(() -> holds.send(hop("http://api.example/w"), LEFT, (h, recheck) -> {
                fail("http://api.example/a", 5); // while this item waited for its permit
                recheck.notHeld();
                sent.set(true);
                return answer(200, null);
            })).isInstanceOf(HttpCallException.class)
                    .hasMessage("not sent: http://api.example:80 is held 1 s: 5 failures in a row, the last a 503 without"
                            + " Retry-After");
            assertThat(sent).isFalse();
            assertThat(holds.size()).as("the item that was not sent lifts nothing").isOne();
        }

        @Test
        void theFirstCallAfterAHoldIsSentWhateverTheRecheck() throws Exception {
            fail("http://api.example/a", 5);
            ticker.advance(Duration.ofSeconds(1));
            Response probe = holds.send(hop("http://api.example/probe"), LEFT, (h, recheck) -> {
                recheck.notHeld();
                return answer(200, null);
            });
            assertThat(probe.status()).isEqualTo(200);
            assertThat(holds.size()).isZero();
        }

        @Test
        void anItemThatWaitedPastAHoldThatEndedMeanwhileIsSent() throws Exception {
            Response got = holds.send(hop("http://api.example/w"), LEFT, (h, recheck) -> {
                fail("http://api.example/a", 5); // held 1 s while this item waited for its permit ...
                ticker.advance(Duration.ofSeconds(1)); // ... and no longer by the time it has one
                recheck.notHeld();
                return answer(200, null);
            });
            assertThat(got.status()).isEqualTo(200);
        }

        @Test
        void refusedConnectionsEndedByAnAnswerHoldNothing() throws Exception {
            for (int i = 0; i < 4; i++) {
                refuse("http://api.example/a");
            }
            send("http://api.example/a", answer(200, null));
            for (int i = 0; i < 4; i++) {
                refuse("http://api.example/a");
            }
            assertThat(holds.size()).isZero();
        }

        @ParameterizedTest(name = "hold after {0} failures")
        @CsvSource({ "0", "5" })
        void aFirstCallAfterARetryAfterThatFailsWithoutOneLiftsTheHold(int holdAfter) throws Exception {
            var registry = new ServiceHolds(ServiceHolds.CAPACITY, ServiceHolds.MAX_HOLD, holdAfter, ticker);
            registry.send(hop("http://api.example/a"), LEFT, h -> answer(503, "10"));
            ticker.advance(Duration.ofSeconds(10));
            registry.send(hop("http://api.example/probe"), LEFT, h -> answer(503, null)); // asks for no wait: lifts
            assertThat(registry.size()).isZero();
            assertThat(registry.send(hop("http://api.example/a"), LEFT, h -> answer(200, null)).status()).isEqualTo(200);
        }

        @Test
        void aServiceThatAsksForAWaitIsHeldAsItAsks() throws Exception {
            fail("http://api.example/a", 4);
            send("http://api.example/a", answer(503, "30"));
            HttpCallException e = held("http://api.example/a");
            assertThat(e.retryAfter()).contains(Duration.ofSeconds(30));
            assertThat(e).hasMessage("not sent: http://api.example:80 answered 503 with Retry-After 30 s");
        }

        @Test
        void zeroHoldsOnlyAServiceThatAsks() throws Exception {
            var asksOnly = new ServiceHolds(ServiceHolds.CAPACITY, ServiceHolds.MAX_HOLD, 0, ticker);
            for (int i = 0; i < 50; i++) {
                asksOnly.send(hop("http://api.example/a"), LEFT, h -> answer(503, null));
            }
            assertThat(asksOnly.size()).isZero();
            assertThat(asksOnly.send(hop("http://api.example/a"), LEFT, h -> answer(200, null)).status()).isEqualTo(200);
        }

        @Test
        void theLeastRecentlyUsedServiceIsForgottenWithItsRun() throws Exception {
            var small = new ServiceHolds(2, ServiceHolds.MAX_HOLD, 5, ticker);
            for (int i = 0; i < 4; i++) {
                small.send(hop("http://a.example/"), LEFT, h -> answer(503, null));
            }
            small.send(hop("http://b.example/"), LEFT, h -> answer(503, null));
            small.send(hop("http://c.example/"), LEFT, h -> answer(503, null));
            small.send(hop("http://a.example/"), LEFT, h -> answer(503, null));
            assertThat(small.size()).as("a's run was forgotten: this is its first failure").isZero();
        }

        @Test
        void clearForgetsTheRuns() throws Exception {
            fail("http://api.example/a", 4);
            holds.clear();
            fail("http://api.example/a", 4);
            assertThat(holds.size()).isZero();
            fail("http://api.example/a", 1);
            assertThat(holds.size()).isOne();
            holds.clear();
            assertThat(send("http://api.example/a", answer(200, null)).status()).isEqualTo(200);
        }

        @Test
        void aNegativeCountIsRefused() {
            assertThatThrownBy(() -> new ServiceHolds(1, ServiceHolds.MAX_HOLD, -1, ticker))
                    .hasMessage("holdAfterFailures must not be negative, was -1");
        }
    }

    @Nested
    class TheFirstCallAfterTheWait {

        /** A probe whose answer the test gives when it likes; {@code entered} opens when its call is made. */
        final CountDownLatch entered = new CountDownLatch(1);
        final CompletableFuture<Response> probeAnswer = new CompletableFuture<>();

        Future<Response> startProbe() throws Exception {
            send("http://api.example/a", answer(503, "10"));
            ticker.advance(Duration.ofSeconds(10));
            Future<Response> probe = threads.submit(() -> holds.send(hop("http://api.example/probe"), LEFT, h -> {
                calls.incrementAndGet();
                entered.countDown();
                try {
                    return probeAnswer.get(10, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IOException("no answer", e);
                }
            }));
            assertThat(entered.await(10, TimeUnit.SECONDS)).isTrue();
            return probe;
        }

        /** Items of the service that wait for the probe's answer, each seen waiting before this returns. */
        List<Future<Response>> waiters(int n, Duration left) throws InterruptedException {
            List<Future<Response>> waiting = new ArrayList<>();
            List<Thread> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int i = 0; i < n; i++) {
                waiting.add(threads.submit(() -> {
                    seen.add(Thread.currentThread());
                    return holds.send(hop("http://api.example/w"), left, h -> {
                        calls.incrementAndGet();
                        return answer(200, null);
                    });
                }));
            }
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((seen.size() < n || seen.stream().anyMatch(t -> t.getState() != Thread.State.TIMED_WAITING))
                    && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            assertThat(seen).hasSize(n).allMatch(t -> t.getState() == Thread.State.TIMED_WAITING);
            return waiting;
        }

        @Test
        void onlyOneCallGoesAndANewRetryAfterHoldsTheOthers() throws Exception {
            Future<Response> probe = startProbe();
            List<Future<Response>> waiting = waiters(5, LEFT);
            assertThat(calls).as("the first wave's call and the probe").hasValue(2);

            probeAnswer.complete(answer(503, "10"));

            assertThat(probe.get(10, TimeUnit.SECONDS).status()).isEqualTo(503);
            for (Future<Response> w : waiting) {
                assertThatThrownBy(() -> w.get(10, TimeUnit.SECONDS)).cause()
                        .asInstanceOf(type(HttpCallException.class))
                        .satisfies(e -> assertThat(e.retryAfter()).contains(Duration.ofSeconds(10)));
            }
            assertThat(calls).as("held again: not sent").hasValue(2);
        }

        @Test
        void anAnswerWithoutWaitLiftsTheHoldAndTheOthersGo() throws Exception {
            Future<Response> probe = startProbe();
            List<Future<Response>> waiting = waiters(5, LEFT);

            probeAnswer.complete(answer(200, null));

            assertThat(probe.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            for (Future<Response> w : waiting) {
                assertThat(w.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            assertThat(calls).hasValue(7);
            assertThat(holds.size()).isZero();
        }

        @Test
        void noAnswerLiftsTheHoldToo() throws Exception {
            Future<Response> probe = startProbe();
            List<Future<Response>> waiting = waiters(3, LEFT);

            probeAnswer.completeExceptionally(new IOException("connection reset"));

            assertThatThrownBy(() -> probe.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(IOException.class)
                    .hasMessage("no answer");
            for (Future<Response> w : waiting) {
                assertThat(w.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            assertThat(calls).hasValue(5);
        }

        @Test
        void anItemWaitsNoLongerThanItsTimeLeft() throws Exception {
            Future<Response> probe = startProbe();
            long start = System.nanoTime();
            List<Future<Response>> waiting = waiters(1, Duration.ofMillis(1_000));

            assertThatThrownBy(() -> waiting.get(0).get(10, TimeUnit.SECONDS)).cause()
                    .isInstanceOf(HttpCallException.class)
                    .hasMessage("not sent: the first call to http://api.example:80 after its hold did not answer"
                            + " in the time left")
                    .satisfies(e -> assertThat(((HttpCallException) e).retryAfter()).isEmpty());
            // the wait ends MIN_RETRY_MILLIS before the time left does
            assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(850L, 5_000L);
            assertThat(calls).hasValue(2);
            probeAnswer.complete(answer(200, null));
            probe.get(10, TimeUnit.SECONDS);
        }

        @Test
        void anItemWithNoTimeLeftDoesNotWait() throws Exception {
            Future<Response> probe = startProbe();
            assertThatThrownBy(() -> holds.send(hop("http://api.example/w"), Duration.ofMillis(50), h -> answer(200, null)))
                    .isInstanceOf(HttpCallException.class).hasMessageStartingWith("not sent: the first call");
            probeAnswer.complete(answer(200, null));
            probe.get(10, TimeUnit.SECONDS);
        }

        @Test
        void clearLetsTheWaitingItemsGo() throws Exception {
            Future<Response> probe = startProbe();
            List<Future<Response>> waiting = waiters(2, LEFT);

            holds.clear();

            for (Future<Response> w : waiting) {
                assertThat(w.get(10, TimeUnit.SECONDS).status()).isEqualTo(200);
            }
            probeAnswer.complete(answer(503, "10"));
            probe.get(10, TimeUnit.SECONDS);
            assertThat(held("http://api.example/a").retryAfter()).as("the probe's answer after the clear holds again")
                    .contains(Duration.ofSeconds(10));
        }

        @Test
        void aCancelledItemStopsWaiting() throws Exception {
            Future<Response> probe = startProbe();
            var ended = new CompletableFuture<Throwable>();
            Thread item = Thread.ofVirtual().start(() -> {
                try {
                    holds.send(hop("http://api.example/w"), LEFT, h -> {
                        calls.incrementAndGet();
                        return answer(200, null);
                    });
                    ended.complete(null);
                } catch (Throwable e) {
                    ended.complete(e);
                }
            });
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (item.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < until) {
                Thread.onSpinWait();
            }

            item.interrupt(); // what the engine does at the cut-off

            assertThat(ended.get(10, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            probeAnswer.complete(answer(200, null));
            probe.get(10, TimeUnit.SECONDS);
            assertThat(calls).as("the cancelled item was not sent").hasValue(2);
        }
    }

    /** Through the http item, against two local servers: one that answers 503 with Retry-After 120, one that is well. */
    @Nested
    class ThroughTheHttpItem {

        @Test
        void theOtherItemsOfAHeldServiceAreNotSentInThisInvocationNorInTheNext() throws Exception {
            var down = com.sun.net.httpserver.HttpServer.create(
                    new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
            var well = com.sun.net.httpserver.HttpServer.create(
                    new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
            var downHits = new AtomicInteger();
            var wellHits = new AtomicInteger();
            down.createContext("/", exchange -> {
                downHits.incrementAndGet();
                exchange.getResponseHeaders().add("Retry-After", "120");
                exchange.sendResponseHeaders(503, -1);
                exchange.close();
            });
            well.createContext("/", exchange -> {
                wellHits.incrementAndGet();
                exchange.sendResponseHeaders(204, -1);
                exchange.close();
            });
            down.start();
            well.start();
            String downUrl = "http://127.0.0.1:" + down.getAddress().getPort();
            String wellUrl = "http://127.0.0.1:" + well.getAddress().getPort();
            var settings = HttpCallFunctionTest.LOCAL;
            try (var function = new HttpCallFunction(settings, SsrfGuard.Resolver.SYSTEM,
                    new ServiceHolds(ServiceHolds.CAPACITY, ServiceHolds.MAX_HOLD, ticker))) {
                // one at a time, on a clock that stands still: the messages' "2.0 s left" are exact
                var first = run(function, List.of(downUrl + "/a", downUrl + "/b?page=2", wellUrl + "/c", downUrl + "/d"));

                var failed = (dev.fanout.engine.Outcome.Failed<?>) first.outcome(0);
                assertThat(failed.error()).hasMessage("HTTP 503 from " + downUrl + "/a: Retry-After 120 s exceeds the 2.0 s left");
                for (int i : new int[] { 1, 3 }) {
                    var held = (dev.fanout.engine.Outcome.Failed<?>) first.outcome(i);
                    assertThat(held.retryable()).isTrue();
                    assertThat(held.retryAfter()).contains(Duration.ofSeconds(120));
                    assertThat(held.error()).hasMessage("not sent: " + downUrl + " answered 503 with Retry-After 120 s:"
                            + " Retry-After 120 s exceeds the 2.0 s left");
                }
                assertThat(first.outcome(2).isSuccess()).isTrue();
                assertThat(downHits).as("one call to the service that asked to wait").hasValue(1);
                assertThat(wellHits).hasValue(1);

                // a later warm invocation, 100 s on: still held, for the 20 s left
                ticker.advance(Duration.ofSeconds(100));
                var later = (dev.fanout.engine.Outcome.Failed<?>) run(function, List.of(downUrl + "/e")).outcome(0);
                assertThat(later.retryAfter()).contains(Duration.ofSeconds(20));
                assertThat(downHits).hasValue(1);

                // the wait is over: the service is called again
                ticker.advance(Duration.ofSeconds(20));
                run(function, List.of(downUrl + "/f"));
                assertThat(downHits).hasValue(2);

                // after a SnapStart restore nothing is held
                function.forgetHolds();
                run(function, List.of(downUrl + "/g"));
                assertThat(downHits).hasValue(3);
            } finally {
                down.stop(0);
                well.stop(0);
            }
        }

        @Test
        void aServiceThatIsDownGetsFiveCallsOfABatchAndTheRestComeBackAfterTheHold() throws Exception {
            var down = com.sun.net.httpserver.HttpServer.create(
                    new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
            var downHits = new AtomicInteger();
            down.createContext("/", exchange -> {
                downHits.incrementAndGet();
                exchange.sendResponseHeaders(503, -1); // no Retry-After
                exchange.close();
            });
            down.start();
            int closedPort;
            try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                closedPort = socket.getLocalPort(); // nothing listens there once it is closed
            }
            String downUrl = "http://127.0.0.1:" + down.getAddress().getPort();
            String closedUrl = "http://127.0.0.1:" + closedPort;
            try (var function = new HttpCallFunction(HttpCallFunctionTest.local("max-attempts", "1"),
                    SsrfGuard.Resolver.SYSTEM, new ServiceHolds(ServiceHolds.CAPACITY, ServiceHolds.MAX_HOLD,
                            ServiceHolds.HOLD_AFTER_FAILURES, ticker))) {
                List<String> urls = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    urls.add(downUrl + "/" + i);
                    urls.add(closedUrl + "/" + i);
                }
                var result = run(function, urls);

                assertThat(downHits).as("five calls, then the service is held").hasValue(5);
                for (int i = 0; i < urls.size(); i++) {
                    var failed = (dev.fanout.engine.Outcome.Failed<?>) result.outcome(i);
                    assertThat(failed.retryable()).isTrue();
                    boolean refused = i % 2 == 1;
                    if (i < 10) {
                        assertThat(failed.error().getMessage()).startsWith(refused ? "" : "HTTP 503 from ")
                                .doesNotContain("not sent");
                        assertThat(failed.retryAfter()).isEmpty();
                    } else {
                        assertThat(failed.error()).hasMessage("not sent: " + (refused ? closedUrl : downUrl)
                                + " is held 1 s: 5 failures in a row, the last "
                                + (refused ? "a refused connection" : "a 503 without Retry-After"));
                        assertThat(failed.retryAfter()).contains(Duration.ofSeconds(1));
                    }
                }

                ticker.advance(Duration.ofSeconds(1));
                run(function, List.of(downUrl + "/probe", downUrl + "/next"));
                assertThat(downHits).as("one call after the hold, which fails: held again").hasValue(6);
                assertThat(((dev.fanout.engine.Outcome.Failed<?>) run(function, List.of(downUrl + "/x")).outcome(0))
                        .retryAfter()).contains(Duration.ofSeconds(2));
            } finally {
                down.stop(0);
            }
        }

        /**
         * A batch's first wave against a service that is down, with its adaptive limit (initial 20) in front: the items
         * that waited for a permit while the first failures held the service are not sent.
         */
        @ParameterizedTest(name = "hold after {0} failures")
        @CsvSource({ "5, 40", "0, 100" })
        void theItemsWaitingForAPermitWhenTheServiceIsHeldAreNotSent(int holdAfter, int mostCalls) throws Exception {
            var down = com.sun.net.httpserver.HttpServer.create(
                    new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
            var hits = new AtomicInteger();
            down.createContext("/", exchange -> {
                hits.incrementAndGet();
                exchange.sendResponseHeaders(503, -1);
                exchange.close();
            });
            down.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            down.start();
            var limits = new dev.fanout.work.limits.ServiceLimits(new dev.fanout.work.limits.LimitSettings(true,
                    dev.fanout.work.limits.LimitAlgorithm.AIMD, 20, 2, 1000, 16));
            try (var function = new HttpCallFunction(HttpCallFunctionTest.local("max-attempts", "1"), SsrfGuard.Resolver.SYSTEM,
                    new ServiceHolds(ServiceHolds.CAPACITY, ServiceHolds.MAX_HOLD, holdAfter, ticker))) {
                var functions = dev.fanout.testing.TestFunctions.builder(new com.fasterxml.jackson.databind.ObjectMapper())
                        .add(function).serviceLimits(limits).build();
                List<dev.fanout.work.ParsedItem> items = new ArrayList<>();
                for (int i = 0; i < 100; i++) {
                    var payload = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()
                            .put("url", "http://127.0.0.1:" + down.getAddress().getPort() + "/" + i);
                    items.add(new dev.fanout.work.ParsedItem.Valid(new dev.fanout.work.WorkItem("i" + i,
                            HttpCallFunction.TYPE, java.util.Optional.empty(), payload)));
                }
                var result = new dev.fanout.engine.WorkerPool(dev.fanout.engine.Limits.of(100)).run(
                        dev.fanout.engine.Batch.of(items), functions.dispatcher(),
                        dev.fanout.engine.Deadline.after(Duration.ofSeconds(20)));

                assertThat(result.outcomes()).hasSize(100).allSatisfy(o -> assertThat(o)
                        .isInstanceOfSatisfying(dev.fanout.engine.Outcome.Failed.class, f -> assertThat(f.retryable()).isTrue()));
                // each answer frees its permit before it is counted: at most the 20 first permits slip through
                assertThat(hits.get()).isLessThanOrEqualTo(mostCalls);
                if (holdAfter == 0) {
                    assertThat(hits).as("without the hold every item is sent").hasValue(100);
                } else {
                    long held = result.outcomes().stream().filter(o -> ((dev.fanout.engine.Outcome.Failed<?>) o).error()
                            .getMessage().contains("is held 1 s")).count();
                    assertThat(held + hits.get()).as("every item sent or held").isEqualTo(100);
                }
            } finally {
                down.stop(0);
            }
        }

        dev.fanout.engine.BatchResult<com.fasterxml.jackson.databind.JsonNode> run(HttpCallFunction function, List<String> urls) {
            List<String> payloads = urls.stream().map(url -> HttpCallFunctionTest.payload("url", url)).toList();
            return HttpCallFunctionTest.runAll(function, new dev.fanout.engine.WorkerPool(dev.fanout.engine.Limits.of(1), ticker),
                    dev.fanout.engine.Deadline.after(Duration.ofSeconds(2), ticker), payloads);
        }
    }
}

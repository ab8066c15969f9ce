package dev.fanout.work.http;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

import dev.fanout.engine.NonRetryableException;

/**
 * Sends one attempt of one hop, guarded: its host vetted by the {@link SsrfGuard} and pinned, its time
 * bounded, its response read within bounds.
 *
 * <h2>Time</h2>
 * An attempt gets its limit (the lesser of the item's timeout and the time left before its deadline) for
 * all of it: resolving the host, waiting for a pooled connection, connecting, sending, the response and
 * its body. A name lookup cannot be aborted (the JDK's resolver blocks in native code and ignores
 * interrupts), so it runs on a thread of its own and the attempt waits for it no longer than its limit: a
 * hung resolver costs the lookup thread, never the item's deadline. A timer cancels the request when the
 * limit runs out, and the caller cancels it at the item's deadline ({@link InFlight}): a hung server never
 * holds an item past it. With less than {@value RequestChecks#MIN_SEND_MILLIS} ms left, an attempt fails
 * (retryable) without sending.
 *
 * <h2>SSRF and DNS rebinding</h2>
 * Every hop's host is resolved once, by the {@link SsrfGuard}, which refuses it if any address is not
 * public (unless the allow-list opens it). The connection manager's {@link DnsResolver} never looks a
 * name up: it hands out the vetted addresses of the request being executed, bound in a {@link ScopedValue}
 * around the call (the classic client connects on the calling thread). A second DNS answer is never asked
 * for, so it cannot be used. TLS still uses the host name, for SNI and the certificate check. A pooled
 * connection is reused only for the same scheme, host and port, after the host passed the guard again.
 *
 * <h2>Response</h2>
 * The body is read in one bounded read of at most {@link HttpSettings#maxBodyBytes()} + 1 bytes, never
 * the whole stream. If that extra byte arrives, the first {@code maxBodyBytes} are kept, {@code truncated}
 * is set, and the connection is closed without reading the rest (it is discarded, not drained back into
 * the pool). Response heads are bounded too: lines of at most {@value #MAX_HEADER_CHARS} characters, at most
 * {@value #MAX_HEADER_COUNT} headers, and each header value in the output cut at {@value #MAX_HEADER_CHARS}
 * characters. With the largest cap (256 KiB) a result stays under 1 MiB, the limit of the SQS message it
 * travels in.
 *
 * <h2>Client</h2>
 * One pooled client per handler: {@link HttpSettings#maxConnections()} connections in all and per route,
 * kept alive for reuse; no cookies, no automatic redirects or retries, no proxy; user agent
 * {@value #USER_AGENT}.
 */
final class GuardedTransport implements AutoCloseable {

    static final String USER_AGENT = "fanout/0.1";
    /** Longest response header line read, and longest header value written to the output. */
    static final int MAX_HEADER_CHARS = 8_192;
    static final int MAX_HEADER_COUNT = 100;

    /** The vetted addresses of the request being executed on this thread, for {@link PinnedDnsResolver}. */
    private static final ScopedValue<Pin> PIN = ScopedValue.newInstance();

    private final HttpSettings settings;
    private final SsrfGuard guard;
    private final CloseableHttpClient client;
    private final PoolingHttpClientConnectionManager connections;
    private final ScheduledThreadPoolExecutor timer;

    /** The request an item has in flight, so that the item's cancellation can cancel it. */
    static final class InFlight {

        private final AtomicReference<HttpUriRequestBase> request = new AtomicReference<>();
        private volatile boolean cancelled;

        /** Cancels the request in flight, if there is one, and every later one. */
        void cancel() {
            cancelled = true;
            HttpUriRequestBase current = request.get();
            if (current != null) {
                current.cancel();
            }
        }
    }

    GuardedTransport(HttpSettings settings, SsrfGuard guard) {
        this.settings = settings;
        this.guard = guard;
        this.timer = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("fanout-http-timeouts").daemon().factory());
        timer.setRemoveOnCancelPolicy(true);
        this.connections = PoolingHttpClientConnectionManagerBuilder.create()
                .setDnsResolver(new PinnedDnsResolver())
                // bounded response heads: chosen headers go into the result, which must fit in SQS
                .setConnectionFactory(ManagedHttpClientConnectionFactory.builder()
                        .http1Config(Http1Config.custom()
                                .setMaxLineLength(MAX_HEADER_CHARS)
                                .setMaxHeaderCount(MAX_HEADER_COUNT)
                                .build())
                        .build())
                .setMaxConnTotal(settings.maxConnections())
                .setMaxConnPerRoute(settings.maxConnections())
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(settings.connectTimeout()))
                        // a server may close an idle kept-alive connection: check it before reuse
                        .setValidateAfterInactivity(TimeValue.ofSeconds(1))
                        .build())
                .build();
        this.client = HttpClients.custom()
                .setConnectionManager(connections)
                .disableRedirectHandling()
                .disableAutomaticRetries()
                .disableCookieManagement()
                .disableAuthCaching()
                .setUserAgent(USER_AGENT)
                .build();
    }

    /**
     * One attempt at one hop: vet the host, send, read the capped body. The request is cancelled when its
     * limit runs out or through {@code inFlight}.
     *
     * @param timeout the item's time limit of one attempt
     * @param left    the time left before the item's deadline: the attempt's limit is the lesser of the two
     */
    Response send(OutboundRequest hop, Duration timeout, Duration left, InFlight inFlight) throws IOException {
        Duration limit = timeout.compareTo(left) < 0 ? timeout : left;
        if (limit.toMillis() < RequestChecks.MIN_SEND_MILLIS) {
            throw new HttpCallException(0, null, "no time left to send " + hop.describe() + " ("
                    + Math.max(0, left.toMillis()) + " ms before the item's deadline)", null);
        }
        var pin = new Pin(HostName.normalize(hop.uri().getHost()), vetWithin(hop, limit));
        HttpUriRequestBase request = hop.toRequest(limit);
        var timedOut = new AtomicBoolean();
        ScheduledFuture<?> alarm = timer.schedule(() -> {
            timedOut.set(true);
            request.cancel();
        }, limit.toNanos(), TimeUnit.NANOSECONDS);
        inFlight.request.set(request);
        if (inFlight.cancelled) {
            request.cancel(); // cancelled before the request was in flight: the cancel saw none
        }
        try {
            return ScopedValue.where(PIN, pin).call(() -> exchange(request));
        } catch (IOException e) {
            if (timedOut.get() || e instanceof SocketTimeoutException) {
                throw HttpCallException.timedOut(hop.describe() + " timed out after " + limit.toMillis() + " ms", e);
            }
            throw e;
        } finally {
            alarm.cancel(false);
            inFlight.request.compareAndSet(request, null);
        }
    }

    /** {@link #vet} on a thread of its own, waited for no longer than {@code limit}. */
    private List<InetAddress> vetWithin(OutboundRequest hop, Duration limit) throws IOException {
        var lookup = new CompletableFuture<List<InetAddress>>();
        Thread.ofVirtual().name("fanout-resolve").start(() -> {
            try {
                lookup.complete(vet(hop));
            } catch (Throwable failure) {
                lookup.completeExceptionally(failure);
            }
        });
        try {
            return lookup.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new HttpCallException(0, null, "resolving " + hop.uri().getHost() + " for " + hop.describe()
                    + " timed out after " + limit.toMillis() + " ms", null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("cancelled while resolving " + hop.uri().getHost());
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case IOException io -> throw io;
                case RuntimeException runtime -> throw runtime;
                case Error error -> throw error;
                default -> throw new IOException(e.getCause());
            }
        }
    }

    private List<InetAddress> vet(OutboundRequest hop) throws UnknownHostException {
        try {
            return guard.vet(hop.uri().getHost());
        } catch (NonRetryableException refused) {
            if (hop.from() == null) {
                throw refused;
            }
            throw new NonRetryableException(
                    refused.getMessage() + " (redirected from " + MessageText.display(hop.from()) + ")");
        }
    }

    private Response exchange(HttpUriRequestBase request) throws IOException {
        CloseableHttpResponse response = CloseableHttpResponse.adapt(client.executeOpen(null, request, null));
        boolean complete = false;
        try {
            byte[] body = new byte[0];
            boolean truncated = false;
            HttpEntity entity = response.getEntity();
            if (entity != null) {
                // one bounded read: the cap plus one byte, to learn whether there is more
                byte[] read = entity.getContent().readNBytes(settings.maxBodyBytes() + 1);
                truncated = read.length > settings.maxBodyBytes();
                body = truncated ? Arrays.copyOf(read, settings.maxBodyBytes()) : read;
            }
            complete = !truncated;
            return new Response(response.getCode(), pickHeaders(response), firstValue(response, "location"),
                    firstValue(response, "retry-after"), firstValue(response, "content-type"), body, truncated);
        } finally {
            if (complete) {
                response.close(); // the body was read to its end: the connection goes back to the pool
            } else {
                response.close(CloseMode.IMMEDIATE); // drop the connection rather than drain what is left
            }
        }
    }

    private Map<String, String> pickHeaders(CloseableHttpResponse response) {
        Map<String, String> picked = new LinkedHashMap<>();
        for (String name : settings.responseHeaders()) {
            Header[] values = response.getHeaders(name);
            if (values.length > 0) {
                String value = Arrays.stream(values).map(Header::getValue).collect(Collectors.joining(", "));
                picked.put(name, value.length() > MAX_HEADER_CHARS ? value.substring(0, MAX_HEADER_CHARS) : value);
            }
        }
        return picked;
    }

    private static String firstValue(CloseableHttpResponse response, String name) {
        Header header = response.getFirstHeader(name);
        return header == null ? null : header.getValue();
    }

    /** The message of a failed exchange: a name that does not resolve, or what the connection met. */
    static String describe(OutboundRequest hop, IOException e) {
        if (e instanceof UnknownHostException) {
            String host = HostName.normalize(hop.uri().getHost());
            String detail = e.getMessage();
            return "cannot resolve " + host + (detail == null || detail.equals(host) ? "" : ": " + detail);
        }
        String detail = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        return hop.describe() + " failed: " + detail;
    }

    /** Closes the pool's idle connections: after a SnapStart restore they lead to sockets that are gone. */
    void closeIdleConnections() {
        connections.closeIdle(TimeValue.ZERO_MILLISECONDS);
    }

    /** Connections the pool holds now, leased or idle. */
    int pooledConnections() {
        var stats = connections.getTotalStats();
        return stats.getLeased() + stats.getAvailable();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        client.close(CloseMode.GRACEFUL);
    }

    private record Pin(String host, List<InetAddress> addresses) {
    }

    /**
     * The connection manager's resolver. It never looks a name up: it hands out the addresses the
     * {@link SsrfGuard} vetted for the request being executed on this thread, so the connection goes to
     * exactly what was checked.
     */
    private static final class PinnedDnsResolver implements DnsResolver {

        @Override
        public InetAddress[] resolve(String host) throws UnknownHostException {
            Pin pin = PIN.isBound() ? PIN.get() : null;
            if (pin == null || !pin.host().equals(HostName.normalize(host))) {
                throw new UnknownHostException(host + " was not vetted by the SSRF guard for this request");
            }
            return pin.addresses().toArray(InetAddress[]::new);
        }

        @Override
        public String resolveCanonicalHostname(String host) {
            return host; // only Kerberos (SPNEGO) asks for this, and it is not used: no lookup here
        }
    }
}

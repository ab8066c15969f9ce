package dev.fanout.work.http;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpUriRequestBase;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.ManagedHttpClientConnectionFactory;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpEntity;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;

import com.fasterxml.jackson.annotation.JsonInclude;

import dev.fanout.engine.Backoff;
import dev.fanout.engine.NonRetryableException;
import dev.fanout.work.WorkContext;
import dev.fanout.work.WorkHandler;

import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * The built-in {@code http} type: one HTTP request per item.
 *
 * <pre>
 * {"type": "http", "payload": {"method": "POST", "url": "https://api.example/orders",
 *   "headers": {"content-type": "application/json"}, "body": "{\"sku\": 7}", "timeoutMillis": 3000}}
 *   ->  {"status": 201, "headers": {"content-type": "application/json", "location": "/orders/9"},
 *        "body": "{\"id\": 9}", "truncated": false}
 * </pre>
 *
 * <h2>Time</h2>
 * Each attempt gets the lesser of {@code timeoutMillis} (or {@link HttpSettings#defaultTimeout()}) and the
 * time left before the item's deadline, for all of it: waiting for a pooled connection, connecting,
 * sending, the response and its body. A timer cancels the request when that runs out, and the item's
 * {@link dev.fanout.engine.Cancellation} cancels it at the deadline: a hung server never holds an item
 * past it. With less than {@value #MIN_SEND_MILLIS} ms left, an attempt fails (retryable) without sending;
 * for the same reason a {@code timeoutMillis} below {@value #MIN_SEND_MILLIS} (or above Lambda's 15 minutes)
 * is refused when the payload is read, and the item is rejected.
 *
 * <h2>Failures</h2>
 * <ul>
 * <li>Retryable ({@link HttpCallException}): HTTP 429 and 5xx, connection and DNS failures, timeouts.</li>
 * <li>Permanent ({@link NonRetryableException}): any other 4xx, a refusal by the {@link SsrfGuard}, more
 * redirects than allowed, a redirect to a URL that is not http(s).</li>
 * <li>Rejected ({@link dev.fanout.engine.RejectedItemException}): a malformed payload, with the reason.</li>
 * </ul>
 * A retryable failure is retried inside the item, up to {@link HttpSettings#maxAttempts()} attempts in all,
 * and only while the deadline leaves room for the wait plus {@value #MIN_RETRY_MILLIS} ms for another
 * attempt. The wait is the {@code Retry-After} of a 429 or 503 (seconds or HTTP-date); without one, a 5xx,
 * connection failure or timeout waits a capped exponential backoff with jitter (100 ms, 200 ms, 400 ms ...
 * up to 1 s, each the ceiling of a pause drawn between zero and it: {@link Backoff}). A 429 without {@code Retry-After} is not retried
 * here: the redelivery is its backoff. A {@code Retry-After} that does not fit fails the item at once, and
 * the message says so. A retry repeats the hop that failed (after redirects, the redirected request) as
 * it is, a POST too: items are delivered at least once anyway.
 *
 * <h2>Response body</h2>
 * The body is read in one bounded read of at most {@link HttpSettings#maxBodyBytes()} + 1 bytes, never
 * the whole stream. If that extra byte arrives, the first {@code maxBodyBytes} are kept, {@code truncated}
 * is set, and the connection is closed without reading the rest (it is discarded, not drained back into
 * the pool). The body is text when the content type is {@code text/*}, JSON, XML or names a charset, and
 * the bytes decode in that charset (UTF-8 if none) without control characters other than tab, CR and LF
 * (a character cut by the cap at the end of a truncated body is dropped); otherwise it is base64. So the
 * body takes at most 3 × {@code maxBodyBytes} bytes of JSON as text (a byte of a single-byte charset can
 * become a three-byte UTF-8 character; an escape takes two), 4/3 × as base64. Response heads are bounded
 * too: lines of at most {@value #MAX_HEADER_CHARS} characters, at most {@value #MAX_HEADER_COUNT} headers,
 * and each header value in the output cut at {@value #MAX_HEADER_CHARS} characters. With the largest cap
 * (256 KiB) a result stays under 1 MiB, the limit of the SQS message it travels in.
 *
 * <h2>Redirects</h2>
 * The client follows none by itself; the handler follows 301, 302, 303, 307 and 308 responses that have a
 * {@code Location}, at most {@link HttpSettings#maxRedirects()} hops, then fails permanently ({@code 0}
 * returns the 3xx as the result); the hops count for the whole item. A 303, and a 301 or 302 after a POST, becomes a GET without body (a HEAD
 * stays a HEAD); 307 and 308 keep the method and the body. {@code Authorization}, {@code Proxy-Authorization}
 * and {@code Cookie} are dropped when the origin (scheme, host or port) changes. Every hop is checked
 * again: http or https only, and its host through the SSRF guard.
 *
 * <h2>SSRF and DNS rebinding</h2>
 * Every hop's host is resolved once, by the {@link SsrfGuard}, which refuses it if any address is not
 * public (unless the allow-list opens it). The connection manager's {@link DnsResolver} never looks a
 * name up: it hands out the vetted addresses of the request being executed, bound in a {@link ScopedValue}
 * around the call (the classic client connects on the calling thread). A second DNS answer is never asked
 * for, so it cannot be used. TLS still uses the host name, for SNI and the certificate check. A pooled
 * connection is reused only for the same scheme, host and port, after the host passed the guard again.
 *
 * <h2>Client</h2>
 * One pooled client per handler: {@link HttpSettings#maxConnections()} connections in all and per route,
 * kept alive for reuse; no cookies, no automatic redirects or retries, no proxy; user agent
 * {@value #USER_AGENT}. Messages name URLs without their query, which may carry credentials.
 */
public final class HttpHandler implements WorkHandler, AutoCloseable {

    public static final String TYPE = "http";
    static final String USER_AGENT = "fanout/0.1";
    static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    static final long MIN_SEND_MILLIS = 5;
    /** Lambda's longest timeout: no attempt can use more. */
    static final long MAX_TIMEOUT_MILLIS = 900_000;
    static final long MIN_RETRY_MILLIS = 100;
    /** 100 ms, 200 ms, 400 ms ... up to 1 s, each the ceiling of a full-jitter pause. */
    static final Backoff BACKOFF = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1));
    /** Longest response header line read, and longest header value written to the output. */
    static final int MAX_HEADER_CHARS = 8_192;
    static final int MAX_HEADER_COUNT = 100;

    /** Headers the client sets from the request itself; an item may not forge them. */
    private static final Set<String> MANAGED_HEADERS = Set.of(
            "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer", "upgrade");
    /** Dropped when a redirect leaves the origin. */
    private static final Set<String> CREDENTIAL_HEADERS = Set.of("authorization", "proxy-authorization", "cookie");
    private static final String TOKEN_SYMBOLS = "!#$%&'*+-.^_`|~";

    /** The vetted addresses of the request being executed on this thread, for {@link PinnedDnsResolver}. */
    private static final ScopedValue<Pin> PIN = ScopedValue.newInstance();

    private final HttpSettings settings;
    private final SsrfGuard guard;
    private final CloseableHttpClient client;
    private final ScheduledThreadPoolExecutor timer;

    private final PoolingHttpClientConnectionManager connections;

    public HttpHandler(HttpSettings settings) {
        this(settings, SsrfGuard.Resolver.SYSTEM);
    }

    /** @param resolver resolves host names for the SSRF guard (tests inject one instead of DNS) */
    public HttpHandler(HttpSettings settings, SsrfGuard.Resolver resolver) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.guard = new SsrfGuard(settings.ssrfGuard(), settings.allow(), resolver);
        this.timer = new ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().name("fanout-http-timeouts").daemon().factory());
        timer.setRemoveOnCancelPolicy(true);
        this.client = HttpClients.custom()
                .setConnectionManager(connections = PoolingHttpClientConnectionManagerBuilder.create()
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
                        .build())
                .disableRedirectHandling()
                .disableAutomaticRetries()
                .disableCookieManagement()
                .disableAuthCaching()
                .setUserAgent(USER_AGENT)
                .build();
    }

    /**
     * @param method        GET (the default), HEAD, POST, PUT, PATCH, DELETE or OPTIONS
     * @param url           an absolute http or https URL
     * @param headers       request headers
     * @param body          request body, encoded in the charset of the {@code content-type} header (UTF-8
     *                      if none); sent as {@code text/plain; charset=UTF-8} without that header
     * @param timeoutMillis time limit of one attempt, capped by the time left before the item's deadline
     */
    @RegisterForReflection // Jackson binds it: a native image needs its reflection data
    public record Input(String method, String url, Map<String, String> headers, String body, Long timeoutMillis) {
        public Input {
            String given = method;
            method = method == null ? "GET" : method.toUpperCase(Locale.ROOT);
            if (!METHODS.contains(method)) {
                throw new IllegalArgumentException("field 'method' must be one of " + String.join(", ", METHODS)
                        + ", was " + MessageText.printable(given));
            }
            if (url == null || url.isBlank()) {
                throw new IllegalArgumentException("field 'url' is required");
            }
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException(
                        "field 'url' is not a valid URL: " + e.getReason() + " at index " + e.getIndex());
            }
            String ambiguous = SsrfGuard.ambiguousNumericAuthority(uri.getRawAuthority());
            if (ambiguous != null) {
                throw new IllegalArgumentException("field 'url': " + ambiguous);
            }
            String problem = targetProblem(uri);
            if (problem != null) {
                throw new IllegalArgumentException("field 'url' " + problem);
            }
            headers = headers == null ? Map.of() : checkHeaders(headers);
            if (timeoutMillis != null && (timeoutMillis < MIN_SEND_MILLIS || timeoutMillis > MAX_TIMEOUT_MILLIS)) {
                throw new IllegalArgumentException("field 'timeoutMillis' must be between " + MIN_SEND_MILLIS + " and "
                        + MAX_TIMEOUT_MILLIS + " (an attempt with less than " + MIN_SEND_MILLIS
                        + " ms is never sent), was " + timeoutMillis);
            }
        }

        URI uri() {
            return URI.create(url);
        }
    }

    /**
     * @param status     the final response's status
     * @param headers    the response headers named in {@link HttpSettings#responseHeaders()}, by lower-case
     *                   name; repeated ones joined with ", "
     * @param body       the body as text, if it is text
     * @param bodyBase64 else the body in base64
     * @param truncated  whether the body was longer than {@link HttpSettings#maxBodyBytes()} and cut there
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @RegisterForReflection
    public record Output(int status, Map<String, String> headers, String body, String bodyBase64, boolean truncated) {
    }

    @Override
    public Object handle(WorkContext context) throws Exception {
        Input input = context.payload(Input.class);
        Duration timeout = input.timeoutMillis() == null
                ? settings.defaultTimeout()
                : Duration.ofMillis(input.timeoutMillis());
        var inFlight = new AtomicReference<HttpUriRequestBase>();
        context.cancellation().onCancel(() -> {
            HttpUriRequestBase request = inFlight.get();
            if (request != null) {
                request.cancel();
            }
        });
        Hop hop = new Hop(input.method(), input.uri(), input.headers(), input.body(), null);
        int attempt = 1;
        int redirects = 0;
        while (true) {
            context.cancellation().throwIfCancelled();
            HttpCallException failure;
            try {
                Response response = send(hop, timeout, context, inFlight);
                int status = response.status();
                if (isRedirect(status) && response.location() != null && settings.maxRedirects() > 0) {
                    if (redirects == settings.maxRedirects()) {
                        throw new NonRetryableException(
                                MessageText.statusLine(status, hop.uri()) + ": more than " + redirects + " redirects");
                    }
                    hop = hop.next(status, redirectTarget(hop, status, response.location()));
                    redirects++;
                    continue;
                }
                if (status < 400) {
                    return output(response);
                }
                if (status != 429 && status < 500) {
                    throw new NonRetryableException(MessageText.statusLine(status, hop.uri()));
                }
                Duration retryAfter = status == 429 || status == 503
                        ? parseRetryAfter(response.retryAfter(), Instant.now())
                        : null;
                failure = new HttpCallException(status, retryAfter, MessageText.statusLine(status, hop.uri()), null);
            } catch (HttpCallException e) {
                failure = e;
            } catch (IOException e) {
                context.cancellation().throwIfCancelled();
                failure = new HttpCallException(0, null, describe(hop, e), e);
            }
            Thread.sleep(retryWait(failure, attempt, context.remaining()));
            attempt++;
        }
    }

    /** How long to wait before the next attempt; throws {@code failure} when there is to be none. */
    private Duration retryWait(HttpCallException failure, int attempt, Duration left) throws HttpCallException {
        if (attempt >= settings.maxAttempts()) {
            throw attempt > 1 ? failure.withSuffix(" (after " + attempt + " attempts)") : failure;
        }
        Duration room = left.minusMillis(MIN_RETRY_MILLIS);
        Optional<Duration> asked = failure.retryAfter();
        if (asked.isPresent()) {
            Duration wait = asked.get();
            if (wait.compareTo(room) > 0) {
                throw failure.withSuffix(": Retry-After " + ceilSeconds(wait) + " s " + (wait.compareTo(left) >= 0
                        ? "exceeds the " + tenths(left) + " s left"
                        : "leaves too little of the " + tenths(left) + " s left for another attempt"));
            }
            return wait;
        }
        if (failure.status() == 429) {
            throw failure; // no hint from the server: the redelivery's delay is the backoff
        }
        Duration wait = BACKOFF.pause(attempt);
        if (wait.compareTo(room) > 0) {
            throw failure;
        }
        return wait;
    }

    /**
     * One attempt at one hop: vet the host, send, read the capped body. The request is cancelled when its
     * time limit runs out or the item is cancelled.
     */
    private Response send(Hop hop, Duration timeout, WorkContext context,
            AtomicReference<HttpUriRequestBase> inFlight) throws IOException {
        Duration left = context.remaining();
        Duration limit = timeout.compareTo(left) < 0 ? timeout : left;
        if (limit.toMillis() < MIN_SEND_MILLIS) {
            throw new HttpCallException(0, null, "no time left to send " + hop.describe() + " ("
                    + Math.max(0, left.toMillis()) + " ms before the item's deadline)", null);
        }
        var pin = new Pin(SsrfGuard.normalize(hop.uri().getHost()), vet(hop));
        HttpUriRequestBase request = hop.toRequest(limit);
        var timedOut = new AtomicBoolean();
        ScheduledFuture<?> alarm = timer.schedule(() -> {
            timedOut.set(true);
            request.cancel();
        }, limit.toNanos(), TimeUnit.NANOSECONDS);
        inFlight.set(request);
        if (context.cancellation().isCancelled()) {
            request.cancel(); // cancelled before inFlight was set: the callback saw no request
        }
        try {
            return ScopedValue.where(PIN, pin).call(() -> exchange(request));
        } catch (IOException e) {
            if (timedOut.get() || e instanceof SocketTimeoutException) {
                throw new HttpCallException(0, null, hop.describe() + " timed out after " + limit.toMillis() + " ms", e);
            }
            throw e;
        } finally {
            alarm.cancel(false);
            inFlight.compareAndSet(request, null);
        }
    }

    private List<InetAddress> vet(Hop hop) throws UnknownHostException {
        try {
            return guard.vet(hop.uri().getHost());
        } catch (NonRetryableException refused) {
            if (hop.from() == null) {
                throw refused;
            }
            throw new NonRetryableException(refused.getMessage() + " (redirected from " + MessageText.display(hop.from()) + ")");
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

    private static Output output(Response response) {
        String text = text(response.body(), response.truncated(), response.contentType());
        return text != null
                ? new Output(response.status(), response.headers(), text, null, response.truncated())
                : new Output(response.status(), response.headers(), null,
                        Base64.getEncoder().encodeToString(response.body()), response.truncated());
    }

    /**
     * The body as text if its content type is textual and it decodes cleanly without control characters
     * (tab, CR and LF aside), else null. A truncated body may end inside a character: that tail is dropped.
     */
    static String text(byte[] body, boolean truncated, String contentType) {
        if (contentType == null) {
            return body.length == 0 ? "" : null;
        }
        String mime = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        String charsetName = parameter(contentType, "charset");
        boolean textual = mime.startsWith("text/") || mime.endsWith("/json") || mime.endsWith("+json")
                || mime.endsWith("/xml") || mime.endsWith("+xml") || charsetName != null;
        if (!textual) {
            return null;
        }
        Charset charset;
        try {
            charset = charsetName == null ? UTF_8 : Charset.forName(charsetName);
        } catch (IllegalArgumentException unknownCharset) {
            return null;
        }
        CharsetDecoder decoder = charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        CharBuffer chars = CharBuffer.allocate((int) Math.ceil(body.length * (double) decoder.maxCharsPerByte()) + 1);
        CoderResult result = decoder.decode(ByteBuffer.wrap(body), chars, !truncated);
        if (result.isError() || result.isOverflow() || !truncated && decoder.flush(chars).isError()) {
            return null;
        }
        chars.flip();
        for (int i = 0; i < chars.length(); i++) {
            char c = chars.charAt(i);
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f) {
                return null;
            }
        }
        return chars.toString();
    }

    /** A parameter of a header value such as {@code text/html; charset="utf-8"}, unquoted; or null. */
    private static String parameter(String headerValue, String name) {
        String[] parts = headerValue.split(";");
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq > 0 && parts[i].substring(0, eq).strip().equalsIgnoreCase(name)) {
                String value = parts[i].substring(eq + 1).strip();
                if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
                    value = value.substring(1, value.length() - 1);
                }
                return value.isEmpty() ? null : value;
            }
        }
        return null;
    }

    /** Seconds (delta-seconds) or an HTTP-date; null if absent or unreadable. A past date is no wait. */
    static Duration parseRetryAfter(String value, Instant now) {
        if (value == null) {
            return null;
        }
        String text = value.strip();
        if (text.matches("\\d{1,9}")) {
            return Duration.ofSeconds(Long.parseLong(text));
        }
        try {
            Duration wait = Duration.between(now, DateTimeFormatter.RFC_1123_DATE_TIME.parse(text, Instant::from));
            return wait.isNegative() ? Duration.ZERO : wait;
        } catch (DateTimeParseException unreadable) {
            return null;
        }
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static URI redirectTarget(Hop hop, int status, String location) {
        URI target;
        try {
            URI base = hop.uri();
            if (base.getRawPath() == null || base.getRawPath().isEmpty()) {
                base = base.resolve("/"); // URI.resolve mishandles a base with an empty path
            }
            target = base.resolve(new URI(location));
        } catch (URISyntaxException e) {
            throw new NonRetryableException(MessageText.statusLine(status, hop.uri()) + ": invalid Location header: "
                    + e.getReason() + " at index " + e.getIndex());
        }
        String problem = targetProblem(target);
        if (problem != null) {
            throw new NonRetryableException(MessageText.statusLine(status, hop.uri()) + ": the redirect target " + problem);
        }
        return target;
    }

    /** What makes {@code uri} unusable as a request target, or null. */
    static String targetProblem(URI uri) {
        if (!uri.isAbsolute()) {
            return "must be an absolute URL, was '" + MessageText.printable(uri.toString()) + "'";
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            return "must use http or https, was " + MessageText.printable(uri.getScheme());
        }
        if (uri.getHost() == null) {
            return "must name a host";
        }
        if (uri.getRawUserInfo() != null) {
            return "must not contain user info (send an Authorization header instead)";
        }
        return null;
    }

    private static Map<String, String> checkHeaders(Map<String, String> headers) {
        Map<String, String> copy = new LinkedHashMap<>();
        headers.forEach((name, value) -> {
            if (!isToken(name)) {
                throw new IllegalArgumentException("field 'headers' has an invalid header name \"" + MessageText.printable(name) + "\"");
            }
            if (MANAGED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("field 'headers' must not set " + name + ": the client sets it");
            }
            if (value == null) {
                throw new IllegalArgumentException("field 'headers." + name + "' must be a string");
            }
            if (value.chars().anyMatch(c -> c < 0x20 && c != '\t' || c == 0x7f)) {
                throw new IllegalArgumentException(
                        "field 'headers." + name + "' must not contain control characters such as CR or LF");
            }
            copy.put(name, value);
        });
        return Collections.unmodifiableMap(copy);
    }

    /** Whether {@code name} is an HTTP token (RFC 9110): a valid header name. */
    static boolean isToken(String name) {
        if (name == null || name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean alphaNum = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
            if (!alphaNum && TOKEN_SYMBOLS.indexOf(c) < 0) {
                return false;
            }
        }
        return true;
    }

    private static String describe(Hop hop, IOException e) {
        if (e instanceof UnknownHostException) {
            String host = SsrfGuard.normalize(hop.uri().getHost());
            String detail = e.getMessage();
            return "cannot resolve " + host + (detail == null || detail.equals(host) ? "" : ": " + detail);
        }
        String detail = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
        return hop.describe() + " failed: " + detail;
    }

    private static String ceilSeconds(Duration d) {
        return Long.toString((d.toMillis() + 999) / 1000);
    }

    private static String tenths(Duration d) {
        return String.format(Locale.ROOT, "%.1f", Math.max(0, d.toMillis()) / 1000.0);
    }

    private static String headerValue(Map<String, String> headers, String name) {
        for (Map.Entry<String, String> header : headers.entrySet()) {
            if (header.getKey().equalsIgnoreCase(name)) {
                return header.getValue();
            }
        }
        return null;
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme())
                && a.getHost().equalsIgnoreCase(b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI uri) {
        return uri.getPort() >= 0 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    /** Closes the pool's idle connections: after a SnapStart restore they lead to sockets that are gone. */
    public void closeIdleConnections() {
        connections.closeIdle(TimeValue.ZERO_MILLISECONDS);
    }

    /** Connections the pool holds now, leased or idle. */
    public int pooledConnections() {
        var stats = connections.getTotalStats();
        return stats.getLeased() + stats.getAvailable();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        client.close(CloseMode.GRACEFUL);
    }

    /** One request of an item's chain: the first, or a redirect ({@code from} is the URL that sent it). */
    private record Hop(String method, URI uri, Map<String, String> headers, String body, URI from) {

        String describe() {
            return method + " " + MessageText.display(uri);
        }

        HttpUriRequestBase toRequest(Duration limit) {
            var request = new HttpUriRequestBase(method, uri);
            headers.forEach(request::addHeader);
            if (body != null) {
                request.setEntity(entity(body, headerValue(headers, "content-type")));
            }
            request.setConfig(RequestConfig.custom()
                    // bounded by the attempt's limit: a full pool makes an item wait, never hang
                    .setConnectionRequestTimeout(Timeout.of(limit))
                    .setResponseTimeout(Timeout.of(limit))
                    .build());
            return request;
        }

        private static HttpEntity entity(String body, String contentType) {
            if (contentType == null) {
                return new ByteArrayEntity(body.getBytes(UTF_8), ContentType.TEXT_PLAIN.withCharset(UTF_8));
            }
            Charset charset = UTF_8;
            String named = parameter(contentType, "charset");
            if (named != null) {
                try {
                    charset = Charset.forName(named);
                } catch (IllegalArgumentException unknown) {
                    // the item's header goes out as given; its body stays UTF-8
                }
            }
            return new ByteArrayEntity(body.getBytes(charset), null); // the item's content-type header is sent
        }

        /** The hop that follows a {@code status} redirect to {@code target}. */
        Hop next(int status, URI target) {
            boolean toGet = status == 303 && !method.equals("HEAD")
                    || (status == 301 || status == 302) && method.equals("POST");
            Map<String, String> nextHeaders = new LinkedHashMap<>(headers);
            if (toGet) {
                nextHeaders.keySet().removeIf(name -> name.equalsIgnoreCase("content-type"));
            }
            if (!sameOrigin(uri, target)) {
                nextHeaders.keySet().removeIf(name -> CREDENTIAL_HEADERS.contains(name.toLowerCase(Locale.ROOT)));
            }
            return new Hop(toGet ? "GET" : method, target, nextHeaders, toGet ? null : body, uri);
        }
    }

    /** A response, read: the body capped. */
    private record Response(int status, Map<String, String> headers, String location, String retryAfter,
            String contentType, byte[] body, boolean truncated) {
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
            if (pin == null || !pin.host().equals(SsrfGuard.normalize(host))) {
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

package dev.fanout.testing;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A local HTTP/1.1 service (keep-alive, on the loopback) with a capacity, for the tests and benchmarks of the
 * per-service limits. Its behaviour can change at any time ({@link #behave}): answer within its capacity and
 * refuse beyond it with 429, or slow down with the load instead; answer every request with 429; never answer;
 * reset every connection. It counts what it answered.
 */
public final class LimitedService implements AutoCloseable {

    /** How the service answers. */
    public enum Mode {
        /** Up to {@code capacity} requests at once answered 200 after the latency; beyond it, 429 at once. */
        CAPACITY,
        /** Every request answered 200, after the latency times the load over the capacity (at least once). */
        SLOWS_WITH_LOAD,
        /** Every request answered 429 at once. */
        ALWAYS_429,
        /** No request answered: the connection stays open until the client gives up. */
        HANGS,
        /** Every connection reset (RST) as soon as its request is read. */
        RESETS
    }

    /** A behaviour: the mode, the capacity and the latency of one request at no load. */
    public record Behaviour(Mode mode, int capacity, Duration latency) {
        public static Behaviour of(Mode mode) {
            return new Behaviour(mode, Integer.MAX_VALUE, Duration.ZERO);
        }
    }

    private final ServerSocket server;
    private final AtomicReference<Behaviour> behaviour;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger peak = new AtomicInteger();
    private final AtomicLong ok = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    public LimitedService(Behaviour behaviour) throws IOException {
        this.behaviour = new AtomicReference<>(behaviour);
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
        this.acceptor = Thread.ofVirtual().name("limited-service").start(this::accept);
    }

    public String url(String path) {
        return "http://127.0.0.1:" + server.getLocalPort() + path;
    }

    public void behave(Behaviour next) {
        behaviour.set(next);
    }

    /** Requests answered 200. */
    public long ok() {
        return ok.get();
    }

    /** Requests answered 429. */
    public long refused() {
        return refused.get();
    }

    /** Most requests in the service at once since the last {@link #resetCounts}. */
    public int peak() {
        return peak.get();
    }

    public void resetCounts() {
        ok.set(0);
        refused.set(0);
        peak.set(0);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                open.add(socket);
                Thread.ofVirtual().start(() -> serve(socket));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket) {
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = socket.getOutputStream();
            while (readRequest(in)) {
                Behaviour b = behaviour.get();
                switch (b.mode()) {
                    case RESETS -> {
                        socket.setSoLinger(true, 0);
                        return;
                    }
                    case HANGS -> {
                        in.transferTo(OutputStream.nullOutputStream()); // until the client closes
                        return;
                    }
                    case ALWAYS_429 -> {
                        refused.incrementAndGet();
                        write(out, 429, "busy");
                    }
                    case CAPACITY, SLOWS_WITH_LOAD -> {
                        int now = inFlight.incrementAndGet();
                        peak.accumulateAndGet(now, Math::max);
                        try {
                            if (b.mode() == Mode.CAPACITY && now > b.capacity()) {
                                refused.incrementAndGet();
                                write(out, 429, "busy");
                                continue;
                            }
                            long nanos = b.latency().toNanos();
                            if (b.mode() == Mode.SLOWS_WITH_LOAD && now > b.capacity()) {
                                nanos = nanos * now / b.capacity();
                            }
                            if (nanos > 0) {
                                Thread.sleep(Duration.ofNanos(nanos));
                            }
                        } finally {
                            inFlight.decrementAndGet();
                        }
                        ok.incrementAndGet();
                        write(out, 200, "ok");
                    }
                }
            }
        } catch (IOException | InterruptedException gone) {
            // the client closed the connection, or the service is closing
        } finally {
            open.remove(socket);
        }
    }

    /** Reads one request's head (and a body of a Content-Length); false at the end of the connection. */
    private static boolean readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0) {
            head.append((char) c);
            int n = head.length();
            if (n >= 4 && head.charAt(n - 1) == '\n' && head.charAt(n - 2) == '\r' && head.charAt(n - 3) == '\n'
                    && head.charAt(n - 4) == '\r') {
                String text = head.toString().toLowerCase(Locale.ROOT);
                int at = text.indexOf("\ncontent-length:");
                if (at >= 0) {
                    int end = text.indexOf('\r', at);
                    long length = Long.parseLong(text.substring(at + 16, end).strip());
                    in.skipNBytes(length);
                }
                return true;
            }
        }
        return false;
    }

    private static void write(OutputStream out, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
        String reason = status == 200 ? "OK" : "Too Many Requests";
        out.write(("HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: text/plain\r\nContent-Length: "
                + bytes.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.flush();
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : open) {
            socket.close();
        }
        acceptor.interrupt();
    }
}

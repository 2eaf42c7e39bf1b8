package dev.ideproxy.internal.wire;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Opens a passthrough relay's upstream: a TCP connection to exactly the target's address, then the
 * client side of the WebSocket handshake, carrying the browser's own {@code Sec-WebSocket-Key},
 * subprotocols and extension offers, so that the upstream's answer is one the browser can check
 * and accept as it is (compression is then negotiated end to end, and done once).
 *
 * <p>A hand-written HTTP/1.1 exchange of one request and one response head, because no client
 * library hands over the raw socket after a 101 without terminating the WebSocket itself. The
 * response head may take at most {@value #MAX_RESPONSE_HEAD} bytes; bytes after it (frames the
 * upstream sent at once) are kept for the relay. Plain {@code ws} only: {@code wss} upstreams use
 * the message relay.
 *
 * <p>Thread-safe; one {@link Group} serves every relay of an installed ide-proxy.
 */
public final class UpstreamHandshake {
    static final int MAX_RESPONSE_HEAD = 16 * 1024;
    private static final String GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /**
     * The threads the upstream sockets live on: a few selector loops ({@link WireLoop}), sockets
     * spread over them in turn; stopped with {@link #close()}, which closes every socket.
     */
    public static final class Group implements AutoCloseable {
        private static final AtomicInteger INSTANCES = new AtomicInteger();
        private final WireLoop[] loops;
        private final AtomicInteger next = new AtomicInteger();

        public Group(String threadName, int threads) {
            String prefix = threadName + "-" + INSTANCES.incrementAndGet() + "-";
            loops = new WireLoop[threads];
            for (int i = 0; i < threads; i++) {
                loops[i] = new WireLoop(prefix + (i + 1));
            }
        }

        /** A socket connecting to {@code address}, on the next loop; {@code connected} completes once it is. */
        Wire connect(InetSocketAddress address, Wire.Completion<Wire> connected) throws IOException {
            return ChannelWire.connect(loops[Math.floorMod(next.getAndIncrement(), loops.length)], address, connected);
        }

        /** Closes every socket of the group and ends its threads (waits up to {@code millis} for each). */
        public void close(long millis) {
            for (WireLoop loop : loops) {
                loop.close(millis);
            }
        }

        @Override
        public void close() {
            close(2_000);
        }
    }

    /**
     * The upstream's answer: its status and headers (names in lower case), and, after a 101, the
     * connection and the bytes that came after the head.
     */
    public record Answer(int status, Map<String, List<String>> headers, Wire wire, ByteBuffer leftover) {
        /** The first value of header {@code name} (lower case), or null. */
        public String header(String name) {
            List<String> values = headers.get(name);
            return values == null || values.isEmpty() ? null : values.get(0);
        }
    }

    /** The upstream did not complete the handshake: unreachable, silent, or not speaking HTTP. */
    public static final class HandshakeException extends IOException {
        public HandshakeException(String message) {
            super(message);
        }
    }

    private UpstreamHandshake() {
    }

    /** The {@code Sec-WebSocket-Accept} value for {@code key}. */
    public static String accept(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest((key + GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Connects to {@code uri} ({@code ws://host:port/path?query}) and sends the handshake with
     * {@code headers} (name and value pairs, written in order; they must include the WebSocket ones).
     * Completes with the answer, or fails with an {@link IOException} ({@link java.net.ConnectException}
     * when refused, {@link java.util.concurrent.TimeoutException} wrapped when {@code timeoutMillis} passed).
     * A 101 answer's connection is open; any other answer's is closed.
     */
    public static CompletableFuture<Answer> open(Group group, URI uri, List<Map.Entry<String, String>> headers,
                                                 long timeoutMillis,
                                                 java.util.function.BiFunction<Runnable, Long, Runnable> timer) {
        CompletableFuture<Answer> result = new CompletableFuture<>();
        InetSocketAddress address;
        StringBuilder request = new StringBuilder(512);
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        request.append("GET ").append(path);
        if (uri.getRawQuery() != null) {
            request.append('?').append(uri.getRawQuery());
        }
        request.append(" HTTP/1.1\r\n");
        for (Map.Entry<String, String> h : headers) {
            request.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        request.append("\r\n");
        ByteBuffer out = ByteBuffer.wrap(request.toString().getBytes(StandardCharsets.ISO_8859_1));
        Exchange exchange = new Exchange(result, out);
        try {
            int port = uri.getPort() > 0 ? uri.getPort() : 80;
            address = new InetSocketAddress(uri.getHost(), port);
            if (address.isUnresolved()) {
                throw new java.net.UnknownHostException(uri.getHost());
            }
            exchange.wire = group.connect(address, exchange);
        } catch (IOException e) {
            result.completeExceptionally(e);
            return result;
        }
        Runnable cancelTimer = timer.apply(() -> {
            if (result.completeExceptionally(new java.util.concurrent.TimeoutException(
                    "no WebSocket handshake within " + timeoutMillis + " ms"))) {
                exchange.wire.close();
            }
        }, timeoutMillis);
        result.whenComplete((a, e) -> cancelTimer.run());
        return result;
    }

    /** One handshake: connected, the request written, then the response head read. */
    private static final class Exchange implements Wire.Completion<Wire> {
        private final CompletableFuture<Answer> result;
        private final ByteBuffer request;
        /** Set when connected, or by {@link #open} once the connect started (for its timer). */
        private volatile Wire wire;
        private ByteBuffer head = ByteBuffer.allocate(4096);

        Exchange(CompletableFuture<Answer> result, ByteBuffer request) {
            this.result = result;
            this.request = request;
        }

        /** Connected: send the request. */
        @Override
        public void completed(Wire connected) {
            wire = connected;
            connected.write(new ByteBuffer[] {request}, new Wire.Completion<>() {
                @Override
                public void completed(Void written) {
                    readHead();
                }

                @Override
                public void failed(Throwable cause) {
                    Exchange.this.failed(cause);
                }
            });
        }

        @Override
        public void failed(Throwable cause) {
            if (wire != null) {
                wire.close();
            }
            result.completeExceptionally(cause);
        }

        private void readHead() {
            if (result.isDone()) {
                wire.close();
                return;
            }
            wire.read(head, new Wire.Completion<>() {
                @Override
                public void completed(Integer count) {
                    headRead(count);
                }

                @Override
                public void failed(Throwable cause) {
                    Exchange.this.failed(cause);
                }
            });
        }

        private void headRead(int count) {
            if (count < 0) {
                failed(new HandshakeException("the upstream closed the connection during the handshake"));
                return;
            }
            int end = headEnd(head);
            if (end < 0) {
                if (head.position() >= MAX_RESPONSE_HEAD) {
                    failed(new HandshakeException("the upstream's response head is too large"));
                    return;
                }
                if (!head.hasRemaining()) {
                    ByteBuffer larger = ByteBuffer.allocate(Math.min(head.capacity() * 2, MAX_RESPONSE_HEAD));
                    head = larger.put(head.flip());
                }
                readHead();
                return;
            }
            Answer answer;
            try {
                answer = parse(wire, head, end);
            } catch (HandshakeException e) {
                failed(e);
                return;
            }
            if (answer.status() != 101) {
                wire.close();
            }
            if (!result.complete(answer) && answer.wire() != null) {
                wire.close();
            }
        }
    }

    /** The index just after the head's blank line in the bytes read so far, or -1. */
    private static int headEnd(ByteBuffer buffer) {
        byte[] b = buffer.array();
        for (int i = 3; i < buffer.position(); i++) {
            if (b[i] == '\n' && b[i - 1] == '\r' && b[i - 2] == '\n' && b[i - 3] == '\r') {
                return i + 1;
            }
        }
        return -1;
    }

    private static Answer parse(Wire wire, ByteBuffer buffer, int end) throws HandshakeException {
        String head = new String(buffer.array(), 0, end, StandardCharsets.ISO_8859_1);
        String[] lines = head.split("\r\n");
        String[] status = lines[0].split(" ", 3);
        if (status.length < 2 || !status[0].startsWith("HTTP/1.")) {
            throw new HandshakeException("the upstream did not answer with HTTP/1.1");
        }
        int code;
        try {
            code = Integer.parseInt(status[1]);
        } catch (NumberFormatException e) {
            throw new HandshakeException("the upstream answered an invalid status line");
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                continue;
            }
            headers.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>(1))
                    .add(lines[i].substring(colon + 1).trim());
        }
        ByteBuffer leftover = ByteBuffer.allocate(buffer.position() - end);
        leftover.put(buffer.array(), end, buffer.position() - end).flip();
        return new Answer(code, headers, code == 101 ? wire : null, leftover);
    }

}

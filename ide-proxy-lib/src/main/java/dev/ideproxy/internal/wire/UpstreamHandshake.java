package dev.ideproxy.internal.wire;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousChannelGroup;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;
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
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
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

    /** The channel group the upstream sockets live in: a few daemon threads, stopped with {@link #close()}. */
    public static final class Group implements AutoCloseable {
        private static final AtomicInteger INSTANCES = new AtomicInteger();
        private final AsynchronousChannelGroup group;

        public Group(String threadName, int threads) {
            String prefix = threadName + "-" + INSTANCES.incrementAndGet() + "-";
            AtomicInteger n = new AtomicInteger();
            ThreadFactory factory = r -> {
                Thread t = new Thread(r, prefix + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            };
            try {
                group = AsynchronousChannelGroup.withFixedThreadPool(threads, factory);
            } catch (IOException e) {
                throw new IllegalStateException("cannot start the upstream socket threads", e);
            }
        }

        /** Closes every socket of the group and ends its threads (waits up to {@code millis}). */
        public void close(long millis) {
            try {
                group.shutdownNow();
                group.awaitTermination(millis, TimeUnit.MILLISECONDS);
            } catch (IOException e) {
                // Stopping: nothing left to do.
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
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
    public record Answer(int status, Map<String, List<String>> headers, SocketWire wire, ByteBuffer leftover) {
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
        AsynchronousSocketChannel channel;
        InetSocketAddress address;
        try {
            int port = uri.getPort() > 0 ? uri.getPort() : 80;
            address = new InetSocketAddress(uri.getHost(), port);
            if (address.isUnresolved()) {
                throw new java.net.UnknownHostException(uri.getHost());
            }
            channel = AsynchronousSocketChannel.open(group.group);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        } catch (IOException e) {
            result.completeExceptionally(e);
            return result;
        }
        Runnable cancelTimer = timer.apply(() -> {
            if (result.completeExceptionally(new java.util.concurrent.TimeoutException(
                    "no WebSocket handshake within " + timeoutMillis + " ms"))) {
                closeQuietly(channel);
            }
        }, timeoutMillis);
        result.whenComplete((a, e) -> cancelTimer.run());
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
        channel.connect(address, null, new CompletionHandler<Void, Void>() {
            @Override
            public void completed(Void v, Void a) {
                new SocketWire(channel).write(new ByteBuffer[] {out}, new Wire.Completion<>() {
                    @Override
                    public void completed(Void written) {
                        readHead(channel, ByteBuffer.allocate(4096), result);
                    }

                    @Override
                    public void failed(Throwable cause) {
                        fail(channel, result, cause);
                    }
                });
            }

            @Override
            public void failed(Throwable cause, Void a) {
                fail(channel, result, cause);
            }
        });
        return result;
    }

    private static void readHead(AsynchronousSocketChannel channel, ByteBuffer buffer, CompletableFuture<Answer> result) {
        if (result.isDone()) {
            closeQuietly(channel);
            return;
        }
        channel.read(buffer, null, new CompletionHandler<Integer, Void>() {
            @Override
            public void completed(Integer count, Void a) {
                if (count < 0) {
                    fail(channel, result, new HandshakeException("the upstream closed the connection during the handshake"));
                    return;
                }
                int end = headEnd(buffer);
                if (end < 0) {
                    if (buffer.position() >= MAX_RESPONSE_HEAD) {
                        fail(channel, result, new HandshakeException("the upstream's response head is too large"));
                        return;
                    }
                    ByteBuffer next = buffer;
                    if (!buffer.hasRemaining()) {
                        next = ByteBuffer.allocate(Math.min(buffer.capacity() * 2, MAX_RESPONSE_HEAD));
                        next.put(buffer.flip());
                    }
                    readHead(channel, next, result);
                    return;
                }
                Answer answer;
                try {
                    answer = parse(channel, buffer, end);
                } catch (HandshakeException e) {
                    fail(channel, result, e);
                    return;
                }
                if (answer.status() != 101) {
                    closeQuietly(channel);
                }
                if (!result.complete(answer) && answer.wire() != null) {
                    closeQuietly(channel);
                }
            }

            @Override
            public void failed(Throwable cause, Void a) {
                fail(channel, result, cause);
            }
        });
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

    private static Answer parse(AsynchronousSocketChannel channel, ByteBuffer buffer, int end) throws HandshakeException {
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
        return new Answer(code, headers, code == 101 ? new SocketWire(channel) : null, leftover);
    }

    private static void fail(AsynchronousSocketChannel channel, CompletableFuture<Answer> result, Throwable cause) {
        closeQuietly(channel);
        result.completeExceptionally(cause);
    }

    private static void closeQuietly(AsynchronousSocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing: nothing left to do.
        }
    }
}

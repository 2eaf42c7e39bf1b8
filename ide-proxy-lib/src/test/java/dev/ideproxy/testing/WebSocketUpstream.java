package dev.ideproxy.testing;

import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A real upstream WebSocket server (Jetty core + Jetty's native WebSocket server) on an ephemeral
 * loopback port, standing in for an IDE. It records every handshake and what it receives, and
 * behaves by path:
 * <ul>
 *   <li>{@code /refuse}: answers the handshake with 403;</li>
 *   <li>{@code /second-protocol}: accepts the second subprotocol offered;</li>
 *   <li>{@code /greet}: sends {@code TAG|hello} the moment it is connected;</li>
 *   <li>{@code /stream-echo}: echoes every fragment as it arrives, reading on only when the echo was sent;</li>
 *   <li>{@code /sink}: reads and discards everything, answers nothing;</li>
 *   <li>anything else: echoes each whole message, text as {@code TAG|text}, binary unchanged.</li>
 * </ul>
 * Text messages starting with {@code !} are commands: {@code !close CODE REASON}, {@code !drop} (cut the
 * connection without a close frame), {@code !ping PAYLOAD},
 * {@code !fragments A B C} (text in three frames), {@code !binfragments N SIZE} (binary, N frames of
 * SIZE bytes), {@code !big SIZE} (one binary message), {@code !flood TOTAL SIZE} (binary messages of
 * SIZE bytes, each starting with its 8-byte sequence number, each sent after the previous completed).
 * It reads with explicit demand and answers pings itself.
 */
public final class WebSocketUpstream implements AutoCloseable {
    /** What the upstream saw of one handshake. Header names are lower case. */
    public record Handshake(String path, String query, Map<String, List<String>> headers, List<String> subprotocols) {
        /** All values of a header joined with ", ", or null. */
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null ? null : String.join(", ", values);
        }
    }

    /** A close frame the upstream received. */
    public record Closed(int code, String reason) {
    }

    private final String tag;
    private final Server server;
    private final ServerConnector connector;
    private final ConcurrentLinkedQueue<Handshake> handshakes = new ConcurrentLinkedQueue<>();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final BlockingQueue<Closed> closes = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> pongs = new LinkedBlockingQueue<>();
    private final AtomicInteger pings = new AtomicInteger();
    private final AtomicLong floodSent = new AtomicLong();
    private final AtomicInteger lastMessageFrames = new AtomicInteger();

    public WebSocketUpstream(String tag) throws Exception {
        this.tag = tag;
        QueuedThreadPool threads = new QueuedThreadPool(32, 2);
        threads.setName("upstream-" + tag);
        server = new Server(threads);
        connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(WebSocketUpgradeHandler.from(server, container -> {
            container.setIdleTimeout(Duration.ofMinutes(5));
            container.setMaxTextMessageSize(256L << 20);
            container.setMaxBinaryMessageSize(256L << 20);
            // Large reads, so that a frame up to this size arrives as one part and frame counts are visible.
            container.setInputBufferSize(256 * 1024);
            container.addMapping("/*", (request, response, callback) -> {
                Map<String, List<String>> headers = new TreeMap<>();
                for (HttpField field : request.getHeaders()) {
                    headers.computeIfAbsent(field.getName().toLowerCase(Locale.ROOT), n -> new ArrayList<>())
                            .add(field.getValue());
                }
                String path = request.getHttpURI().getPath();
                handshakes.add(new Handshake(path, request.getHttpURI().getQuery(), headers,
                        List.copyOf(request.getSubProtocols())));
                if (path.equals("/refuse")) {
                    Response.writeError(request, response, callback, 403);
                    return null;
                }
                List<String> offered = request.getSubProtocols();
                if (path.equals("/second-protocol") && offered.size() >= 2) {
                    response.setAcceptedSubProtocol(offered.get(1));
                } else if (!offered.isEmpty()) {
                    response.setAcceptedSubProtocol(offered.get(0));
                }
                return new Socket(path);
            });
        }));
        server.start();
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort());
    }

    public String tag() {
        return tag;
    }

    public List<Handshake> handshakes() {
        return List.copyOf(handshakes);
    }

    public int handshakeCount() {
        return handshakes.size();
    }

    public Handshake lastHandshake() {
        List<Handshake> all = handshakes();
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    /** Sessions open right now. */
    public int openSessions() {
        return open.size();
    }

    /** The next close frame received, waiting at most {@code timeout}; null if none came. */
    public Closed nextClose(Duration timeout) throws InterruptedException {
        return closes.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public void clearCloses() {
        closes.clear();
    }

    /** The next pong payload received (as text), waiting at most {@code timeout}; null if none came. */
    public String nextPong(Duration timeout) throws InterruptedException {
        return pongs.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Pings received so far (the proxy's keep-alives among them). */
    public int pingsReceived() {
        return pings.get();
    }

    /** Bytes of the current or last flood whose send completed. */
    public long floodSent() {
        return floodSent.get();
    }

    /** Frames of the last whole message received. */
    public int lastMessageFrames() {
        return lastMessageFrames.get();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** One upstream session. Public: Jetty binds listener methods through method handles. */
    public final class Socket implements Session.Listener {
        private final String path;
        private final boolean streamEcho;
        private final boolean sink;
        private volatile Session session;
        private StringBuilder text;
        private java.io.ByteArrayOutputStream binary;
        private int frames;

        Socket(String path) {
            this.path = path;
            this.streamEcho = path.equals("/stream-echo");
            this.sink = path.equals("/sink");
        }

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
            open.add(this);
            if (path.equals("/greet")) {
                session.sendText(tag + "|hello", Callback.NOOP);
            }
            session.demand();
        }

        @Override
        public void onWebSocketPartialText(String payload, boolean last) {
            frames++;
            if (sink) {
                session.demand();
                return;
            }
            if (streamEcho) {
                session.sendPartialText(payload, last, Callback.from(session::demand, this::fail));
                return;
            }
            if (text == null) {
                text = new StringBuilder();
            }
            text.append(payload);
            if (last) {
                String message = text.toString();
                text = null;
                lastMessageFrames.set(frames);
                frames = 0;
                onText(message);
            }
            session.demand();
        }

        @Override
        public void onWebSocketPartialBinary(ByteBuffer payload, boolean last, Callback callback) {
            frames++;
            if (sink) {
                callback.succeed();
                session.demand();
                return;
            }
            if (streamEcho) {
                ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
                callback.succeed();
                session.sendPartialBinary(copy, last, Callback.from(session::demand, this::fail));
                return;
            }
            if (binary == null) {
                binary = new java.io.ByteArrayOutputStream();
            }
            byte[] bytes = new byte[payload.remaining()];
            payload.get(bytes);
            binary.write(bytes, 0, bytes.length);
            callback.succeed();
            if (last) {
                byte[] message = binary.toByteArray();
                binary = null;
                lastMessageFrames.set(frames);
                frames = 0;
                session.sendBinary(ByteBuffer.wrap(message), Callback.from(session::demand, this::fail));
                return;
            }
            session.demand();
        }

        private void onText(String message) {
            if (!message.startsWith("!")) {
                session.sendText(tag + "|" + message, Callback.NOOP);
                return;
            }
            String[] words = message.substring(1).split(" ", 3);
            switch (words[0]) {
                case "close" -> session.close(Integer.parseInt(words[1]), words.length > 2 ? words[2] : "", Callback.NOOP);
                case "drop" -> session.disconnect();
                case "ping" -> session.sendPing(ByteBuffer.wrap(words[1].getBytes(StandardCharsets.UTF_8)), Callback.NOOP);
                case "fragments" -> {
                    String[] parts = message.substring("!fragments ".length()).split(" ");
                    for (int i = 0; i < parts.length; i++) {
                        session.sendPartialText(parts[i], i == parts.length - 1, Callback.NOOP);
                    }
                }
                case "binfragments" -> {
                    int n = Integer.parseInt(words[1]);
                    int size = Integer.parseInt(words[2]);
                    for (int i = 0; i < n; i++) {
                        byte[] part = new byte[size];
                        java.util.Arrays.fill(part, (byte) i);
                        session.sendPartialBinary(ByteBuffer.wrap(part), i == n - 1, Callback.NOOP);
                    }
                }
                case "big" -> session.sendBinary(ByteBuffer.allocate(Integer.parseInt(words[1])), Callback.NOOP);
                case "flood" -> {
                    long total = Long.parseLong(words[1]);
                    int size = Integer.parseInt(words[2]);
                    Thread flood = new Thread(() -> flood(total, size), "upstream-" + tag + "-flood");
                    flood.setDaemon(true);
                    flood.start();
                }
                default -> session.sendText(tag + "|unknown command " + words[0], Callback.NOOP);
            }
        }

        private void flood(long total, int size) {
            floodSent.set(0);
            byte[] bytes = new byte[size];
            for (int i = 8; i < size; i++) {
                bytes[i] = (byte) i;
            }
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            long sequence = 0;
            try {
                for (long sent = 0; sent < total; sent += size) {
                    buffer.clear();
                    buffer.putLong(0, sequence++);
                    Callback.Completable done = new Callback.Completable();
                    session.sendBinary(buffer, done);
                    done.get(120, TimeUnit.SECONDS);
                    floodSent.addAndGet(size);
                }
            } catch (Exception e) {
                // the proxy went away: the test will notice the shortfall
            }
        }

        @Override
        public void onWebSocketPing(ByteBuffer payload) {
            pings.incrementAndGet();
            session.sendPong(payload, Callback.from(session::demand, this::fail));
        }

        @Override
        public void onWebSocketPong(ByteBuffer payload) {
            pongs.add(StandardCharsets.UTF_8.decode(payload).toString());
            session.demand();
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            open.remove(this);
            closes.add(new Closed(statusCode, reason));
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            open.remove(this);
        }

        private void fail(Throwable cause) {
            open.remove(this);
        }
    }
}

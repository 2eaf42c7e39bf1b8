package dev.ideproxy.bench;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.IteratingCallback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * The one fast upstream every scenario targets, on Jetty core (no servlets):
 * <ul>
 *   <li>{@code GET /1k}: 1024 bytes;</li>
 *   <li>{@code GET /bytes?n=N}: N bytes, Content-Length, written from one shared buffer;</li>
 *   <li>{@code POST /count}: reads the body to the end, answers the number of bytes;</li>
 *   <li>WebSocket {@code /ws}: echoes every binary message; text {@code down N} answers N binary
 *       messages of 1 MiB then the text {@code end}; text {@code sink} stops echoing (binary messages
 *       are only counted) and text {@code fin} then answers {@code got B}, the bytes counted.</li>
 * </ul>
 * Usage: {@code BenchUpstream PORT}.
 */
public final class BenchUpstream {
    static final int MIB = 1 << 20;
    private static final ByteBuffer ONE_K = ByteBuffer.allocateDirect(1024);
    private static final ByteBuffer CHUNK = ByteBuffer.allocateDirect(64 * 1024);
    private static final ByteBuffer MESSAGE = ByteBuffer.allocateDirect(MIB);

    static {
        fill(ONE_K);
        fill(CHUNK);
        fill(MESSAGE);
    }

    private static void fill(ByteBuffer b) {
        for (int i = 0; i < b.capacity(); i++) {
            b.put(i, (byte) ('a' + i % 26));
        }
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("upstream");
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        connector.setAcceptQueueSize(4096);
        connector.setIdleTimeout(Duration.ofHours(1).toMillis());
        server.addConnector(connector);
        WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(server, container -> {
            container.setIdleTimeout(Duration.ofHours(1));
            container.setMaxTextMessageSize(64L * MIB);
            container.setMaxBinaryMessageSize(64L * MIB);
            container.setInputBufferSize(64 * 1024);
            container.addMapping("/ws", (request, response, callback) -> new Socket());
        });
        ws.setHandler(new Http());
        server.setHandler(ws);
        server.start();
        System.out.println("upstream listening on " + connector.getLocalPort());
        server.join();
    }

    /** The HTTP endpoints. */
    static final class Http extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            String path = Request.getPathInContext(request);
            switch (path) {
                case "/1k" -> {
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 1024L);
                    response.write(true, ONE_K.slice(), callback);
                }
                case "/bytes" -> {
                    Fields query = Request.extractQueryParameters(request);
                    long n = Long.parseLong(query.getValue("n"));
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
                    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, n);
                    new Download(response, n, callback).iterate();
                }
                case "/count" -> {
                    long total = 0;
                    byte[] buffer = new byte[64 * 1024];
                    try (InputStream in = Content.Source.asInputStream(request)) {
                        for (int r; (r = in.read(buffer)) >= 0; ) {
                            total += r;
                        }
                    }
                    byte[] body = Long.toString(total).getBytes(StandardCharsets.US_ASCII);
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
                    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
                    response.write(true, ByteBuffer.wrap(body), callback);
                }
                default -> Response.writeError(request, response, callback, 404);
            }
            return true;
        }
    }

    /** Writes {@code n} bytes of the shared chunk, one write at a time. */
    static final class Download extends IteratingCallback {
        private final Response response;
        private final Callback callback;
        private long left;

        Download(Response response, long n, Callback callback) {
            this.response = response;
            this.left = n;
            this.callback = callback;
        }

        @Override
        protected Action process() {
            if (left <= 0) {
                return Action.SUCCEEDED;
            }
            int len = (int) Math.min(left, CHUNK.capacity());
            left -= len;
            response.write(left == 0, CHUNK.slice(0, len), this);
            return Action.SCHEDULED;
        }

        @Override
        protected void onCompleteSuccess() {
            callback.succeeded();
        }

        @Override
        protected void onCompleteFailure(Throwable cause) {
            callback.failed(cause);
        }
    }

    /** The WebSocket endpoint. Public: Jetty binds listener methods through method handles. */
    public static final class Socket implements Session.Listener.AutoDemanding {
        private Session session;
        private long received;
        private boolean sink;

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, org.eclipse.jetty.websocket.api.Callback callback) {
            if (sink) {
                received += payload.remaining();
                callback.succeed();
                return;
            }
            // Echo the very buffer; it is released once the echo is written.
            session.sendBinary(payload, callback);
        }

        @Override
        public void onWebSocketText(String message) {
            if (message.startsWith("down ")) {
                int n = Integer.parseInt(message.substring(5).trim());
                sendMessages(n);
            } else if (message.equals("sink")) {
                sink = true;
                received = 0;
            } else if (message.equals("fin")) {
                long got = received;
                received = 0;
                sink = false;
                session.sendText("got " + got, org.eclipse.jetty.websocket.api.Callback.NOOP);
            } else {
                session.sendText(message, org.eclipse.jetty.websocket.api.Callback.NOOP);
            }
        }

        private void sendMessages(int left) {
            if (left == 0) {
                session.sendText("end", org.eclipse.jetty.websocket.api.Callback.NOOP);
                return;
            }
            session.sendBinary(MESSAGE.slice(), org.eclipse.jetty.websocket.api.Callback.from(
                    () -> sendMessages(left - 1), Throwable::printStackTrace));
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            // a client went away; nothing to do
        }
    }

    private BenchUpstream() {
    }
}

package dev.ideproxy.war.soak;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * The soak's workspace: one Jetty server on one loopback port serving HTTP and WebSocket echoes, as
 * an IDE does, and restartable on the same port, as a workspace whose IDE restarts.
 *
 * <ul>
 *   <li>{@code GET .../bytes?n=N}: N bytes (a download);</li>
 *   <li>{@code POST .../upload}: reads the body, answers {@code received:<bytes>};</li>
 *   <li>a WebSocket upgrade on any path: echoes text as {@code echo:<text>} and binary unchanged;</li>
 *   <li>anything else: {@code hello <path>}.</li>
 * </ul>
 */
final class SoakUpstream implements AutoCloseable {
    private static final byte[] CHUNK = new byte[64 * 1024];

    static {
        Arrays.fill(CHUNK, (byte) 'x');
    }

    private final int port;
    private Server server;

    /** Starts on a free loopback port, which every {@link #restart} keeps. */
    SoakUpstream() throws Exception {
        server = start(0);
        port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    int port() {
        return port;
    }

    String uri() {
        return "http://127.0.0.1:" + port;
    }

    /** Stops (closing every connection, WebSockets with 1001), waits {@code downMillis}, starts again. */
    synchronized void restart(long downMillis) throws Exception {
        server.stop();
        Thread.sleep(downMillis);
        for (int attempt = 0; ; attempt++) {
            try {
                server = start(port);
                return;
            } catch (IOException e) {
                if (!(e instanceof BindException || e.getCause() instanceof BindException) || attempt >= 50) {
                    throw e;
                }
                Thread.sleep(100); // the port is still held; loopback frees it within moments
            }
        }
    }

    @Override
    public synchronized void close() throws Exception {
        server.stop();
    }

    private static Server start(int port) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        connector.setReuseAddress(true);
        server.addConnector(connector);
        WebSocketUpgradeHandler sockets = WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxBinaryMessageSize(16L << 20);
            container.setMaxTextMessageSize(16L << 20);
            container.addMapping("/*", (request, response, callback) -> new Echo());
        });
        sockets.setHandler(new Http());
        server.setHandler(sockets);
        server.setStopTimeout(0);
        try {
            server.start();
        } catch (Exception e) {
            server.stop();
            throw e;
        }
        return server;
    }

    /** The plain HTTP side (requests that are not WebSocket upgrades). */
    private static final class Http extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception {
            String path = Request.getPathInContext(request);
            if (path.endsWith("/upload")) {
                long received;
                try (InputStream in = Content.Source.asInputStream(request)) {
                    received = in.transferTo(OutputStream.nullOutputStream());
                }
                Content.Sink.write(response, true, "received:" + received, callback);
            } else if (path.endsWith("/bytes")) {
                Fields query = Request.extractQueryParameters(request);
                long n = Long.parseLong(query.getValue("n"));
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, n);
                try (OutputStream out = Content.Sink.asOutputStream(response)) {
                    for (long left = n; left > 0; left -= CHUNK.length) {
                        out.write(CHUNK, 0, (int) Math.min(CHUNK.length, left));
                    }
                }
                callback.succeeded();
            } else {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
                Content.Sink.write(response, true, "hello " + path, callback);
            }
            return true;
        }
    }

    /** Echoes every whole message back. Public: Jetty binds listener methods by reflection. */
    public static final class Echo implements Session.Listener.AutoDemanding {
        private Session session;

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            // the upstream's restart cut the connection: expected, and not worth a warning
        }

        @Override
        public void onWebSocketText(String message) {
            session.sendText("echo:" + message, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, org.eclipse.jetty.websocket.api.Callback callback) {
            ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
            callback.succeed();
            session.sendBinary(copy, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }
}

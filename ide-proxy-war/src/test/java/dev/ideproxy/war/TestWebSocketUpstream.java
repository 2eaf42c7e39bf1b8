package dev.ideproxy.war;

import java.nio.ByteBuffer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A real upstream WebSocket server (Jetty core) on a loopback port: echoes text as
 * {@code echo:<path>:<text>} and binary unchanged.
 */
final class TestWebSocketUpstream implements AutoCloseable {
    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);

    TestWebSocketUpstream() throws Exception {
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxBinaryMessageSize(64L << 20);
            container.setMaxTextMessageSize(64L << 20);
            container.addMapping("/*", (request, response, callback) -> new Echo(request.getHttpURI().getPath()));
        }));
        server.start();
    }

    String uri() {
        return "http://127.0.0.1:" + connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** Echoes every whole message back. Public: Jetty binds listener methods by reflection. */
    public static final class Echo implements Session.Listener.AutoDemanding {
        private final String path;
        private Session session;

        Echo(String path) {
            this.path = path;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
        }

        @Override
        public void onWebSocketText(String message) {
            session.sendText("echo:" + path + ":" + message, Callback.NOOP);
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, org.eclipse.jetty.websocket.api.Callback callback) {
            ByteBuffer copy = ByteBuffer.allocate(payload.remaining()).put(payload).flip();
            callback.succeed();
            session.sendBinary(copy, Callback.NOOP);
        }
    }
}

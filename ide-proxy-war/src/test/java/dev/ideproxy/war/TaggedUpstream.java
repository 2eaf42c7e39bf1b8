package dev.ideproxy.war;

import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * A real upstream (Jetty core) on a loopback port that names itself: HTTP answers
 * {@code <tag> at <path> for <Host>}, WebSockets echo text as {@code <tag>:<path>:<text>}; it counts
 * both. Give each proxy node its own instance, with the same workspace id, and the answers and
 * counts tell which node served a request.
 */
final class TaggedUpstream implements AutoCloseable {
    final String tag;
    final AtomicInteger httpRequests = new AtomicInteger();
    final AtomicInteger webSockets = new AtomicInteger();
    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);

    TaggedUpstream(String tag) throws Exception {
        this.tag = tag;
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        WebSocketUpgradeHandler upgrades = WebSocketUpgradeHandler.from(server, container ->
                container.addMapping("/*", (request, response, callback) -> {
                    webSockets.incrementAndGet();
                    return new Echo(tag, request.getHttpURI().getPath());
                }));
        upgrades.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                httpRequests.incrementAndGet();
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
                Content.Sink.write(response, true, tag + " at " + request.getHttpURI().getPath() + " for "
                        + request.getHeaders().get(HttpHeader.HOST), callback);
                return true;
            }
        });
        server.setHandler(upgrades);
        server.start();
    }

    String uri() {
        return "http://127.0.0.1:" + connector.getLocalPort();
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }

    /** Echoes text with the upstream's tag. Public: Jetty binds listener methods by reflection. */
    public static final class Echo implements Session.Listener.AutoDemanding {
        private final String tag;
        private final String path;
        private Session session;

        Echo(String tag, String path) {
            this.tag = tag;
            this.path = path;
        }

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
        }

        @Override
        public void onWebSocketText(String message) {
            session.sendText(tag + ":" + path + ":" + message, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }
}

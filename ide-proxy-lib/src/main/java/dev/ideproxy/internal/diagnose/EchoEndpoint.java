package dev.ideproxy.internal.diagnose;

import dev.ideproxy.internal.web.LogSafe;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.Extension;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The diagnostics page's WebSocket round trip, answered by the proxy itself through the container's
 * own WebSocket implementation: it sends the first text message back and closes normally (1000). A
 * message over {@value #MAX_MESSAGE} bytes, or {@value #IDLE_TIMEOUT_MILLIS} ms of silence, ends it
 * sooner, so an echo session holds nothing for long. Never connects to an upstream.
 *
 * <p>Public only because containers instantiate endpoint classes reflectively. The container calls it
 * one event at a time per session; it holds no state.
 */
public final class EchoEndpoint extends Endpoint {
    private static final Logger LOG = LoggerFactory.getLogger(EchoEndpoint.class);
    /** Largest message echoed, in bytes; larger ones close the session with 1009. */
    static final int MAX_MESSAGE = 1024;
    /** An echo session that hears nothing for this long is closed. */
    static final long IDLE_TIMEOUT_MILLIS = 10_000;

    /** A fresh configuration for one upgrade: no subprotocol, no extensions; the Origin was checked before. */
    static ServerEndpointConfig config() {
        return ServerEndpointConfig.Builder.create(EchoEndpoint.class, "/").configurator(new Handshake()).build();
    }

    @Override
    public void onOpen(Session session, EndpointConfig config) {
        session.setMaxIdleTimeout(IDLE_TIMEOUT_MILLIS);
        session.setMaxTextMessageBufferSize(MAX_MESSAGE);
        session.setMaxBinaryMessageBufferSize(MAX_MESSAGE);
        session.addMessageHandler(String.class, (MessageHandler.Whole<String>) text -> echoAndClose(session, text));
    }

    private static void echoAndClose(Session session, String text) {
        try {
            session.getBasicRemote().sendText(text);
            session.close(new CloseReason(CloseReason.CloseCodes.NORMAL_CLOSURE, "round trip done"));
        } catch (IOException | IllegalStateException e) {
            LOG.debug("diagnostics: echo session ended early: {}", LogSafe.safe(e));
        }
    }

    @Override
    public void onError(Session session, Throwable cause) {
        LOG.debug("diagnostics: echo session error: {}", LogSafe.safe(cause));
    }

    /** Per-upgrade configurator; overrides every method so no container default applies. Immutable. */
    static final class Handshake extends ServerEndpointConfig.Configurator {
        @Override
        public <T> T getEndpointInstance(Class<T> endpointClass) {
            return endpointClass.cast(new EchoEndpoint());
        }

        @Override
        public String getNegotiatedSubprotocol(List<String> supported, List<String> requested) {
            return "";
        }

        @Override
        public List<Extension> getNegotiatedExtensions(List<Extension> installed, List<Extension> requested) {
            return List.of();
        }

        @Override
        public boolean checkOrigin(String originHeaderValue) {
            return true;
        }

        @Override
        public void modifyHandshake(ServerEndpointConfig sec, HandshakeRequest request, HandshakeResponse response) {
            // nothing to add
        }
    }
}

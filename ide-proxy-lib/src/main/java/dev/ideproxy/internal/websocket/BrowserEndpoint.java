package dev.ideproxy.internal.websocket;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.Extension;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.PongMessage;
import jakarta.websocket.Session;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The browser side of one relay: a Jakarta WebSocket endpoint served by the container's own
 * implementation (Tomcat's on Tomcat, Jetty's on Jetty), created already bound to its
 * {@link Relay} and hence to the upstream session opened for this very request.
 *
 * <p>It takes messages in parts ({@link MessageHandler.Partial}) so fragments stream through, and
 * each part is handed upstream before its handler returns: the container reads nothing more from
 * the browser until the upstream took the part. Browser pings are answered by the container; the
 * browser's pongs go upstream (except answers to the relay's own keep-alive pings).
 *
 * <p>On open it tunes the container's session for an IDE (timeouts, buffer sizes; see {@link #tune}).
 *
 * <p>Public only because containers instantiate endpoint classes reflectively. The container calls
 * it one event at a time per session; it holds no state of its own.
 */
public final class BrowserEndpoint extends Endpoint {
    /** Tomcat's session property bounding blocking sends (default 20 s); other containers ignore it. */
    static final String TOMCAT_BLOCKING_SEND_TIMEOUT = "org.apache.tomcat.websocket.BLOCKING_SEND_TIMEOUT";
    /**
     * Jetty's session property for the size of its reads from the browser (default 4 KiB), hence of the
     * parts the relay receives and of the frames it sends upstream; other containers ignore it. Jetty
     * takes the buffer from its pool only while reading, so an idle session holds none.
     */
    static final String JETTY_INPUT_BUFFER_SIZE = "org.eclipse.jetty.websocket.inputBufferSize";
    static final int JETTY_CLIENT_READ = 64 * 1024;

    private final Relay relay;

    BrowserEndpoint(Relay relay) {
        this.relay = relay;
    }

    /**
     * A fresh endpoint configuration for one upgrade: its configurator hands out the endpoint bound
     * to {@code relay} and accepts exactly {@code subprotocol}, the one the upstream accepted (none
     * when null). The Origin was checked before the upstream was contacted, so it is not checked again.
     */
    static ServerEndpointConfig config(Relay relay, String subprotocol) {
        BrowserEndpoint endpoint = new BrowserEndpoint(relay);
        return ServerEndpointConfig.Builder.create(BrowserEndpoint.class, "/")
                .subprotocols(subprotocol == null ? List.of() : List.of(subprotocol))
                .configurator(new Handshake(endpoint, subprotocol))
                .build();
    }

    @Override
    public void onOpen(Session clientSession, EndpointConfig config) {
        clientSession.addMessageHandler(String.class, (MessageHandler.Partial<String>) relay::onClientText);
        clientSession.addMessageHandler(ByteBuffer.class, (MessageHandler.Partial<ByteBuffer>) relay::onClientBinary);
        clientSession.addMessageHandler(PongMessage.class,
                (MessageHandler.Whole<PongMessage>) pong -> relay.onClientPong(pong.getApplicationData()));
        tune(clientSession, relay.settings());
        relay.onClientOpen(clientSession);
    }

    /**
     * Sets the browser session up for an IDE rather than the container's defaults: the relay's idle
     * timeout and send timeouts, small message buffers (a chunk size: the relay takes messages in
     * parts and enforces the size limit itself), and on Jetty 64 KiB reads.
     */
    private static void tune(Session clientSession, RelaySettings settings) {
        long idle = settings.idleTimeoutMillis();
        clientSession.setMaxIdleTimeout(idle);
        clientSession.setMaxBinaryMessageBufferSize(settings.clientBinaryBuffer());
        clientSession.setMaxTextMessageBufferSize(settings.clientTextBuffer());
        long sendTimeout = idle > 0 ? idle : -1;
        clientSession.getAsyncRemote().setSendTimeout(sendTimeout);
        clientSession.getUserProperties().put(TOMCAT_BLOCKING_SEND_TIMEOUT, sendTimeout);
        clientSession.getUserProperties().put(JETTY_INPUT_BUFFER_SIZE, JETTY_CLIENT_READ);
    }

    @Override
    public void onClose(Session clientSession, CloseReason closeReason) {
        relay.onClientClose(closeReason.getCloseCode().getCode(), closeReason.getReasonPhrase());
    }

    @Override
    public void onError(Session clientSession, Throwable cause) {
        relay.onClientError(cause);
    }

    /**
     * Per-upgrade configurator. It overrides every method, so the behaviour does not depend on
     * which container's default configurator a service loader would find. Immutable.
     */
    static final class Handshake extends ServerEndpointConfig.Configurator {
        private final BrowserEndpoint endpoint;
        private final String subprotocol;

        Handshake(BrowserEndpoint endpoint, String subprotocol) {
            this.endpoint = endpoint;
            this.subprotocol = subprotocol;
        }

        @Override
        public <T> T getEndpointInstance(Class<T> endpointClass) {
            return endpointClass.cast(endpoint);
        }

        @Override
        public String getNegotiatedSubprotocol(List<String> supported, List<String> requested) {
            return subprotocol == null ? "" : subprotocol;
        }

        /** Extensions (compression) are per hop: whatever the container offers and the browser asks for. */
        @Override
        public List<Extension> getNegotiatedExtensions(List<Extension> installed, List<Extension> requested) {
            Set<String> names = new HashSet<>();
            for (Extension extension : installed) {
                names.add(extension.getName());
            }
            List<Extension> negotiated = new ArrayList<>();
            for (Extension extension : requested) {
                if (names.contains(extension.getName())) {
                    negotiated.add(extension);
                }
            }
            return negotiated;
        }

        @Override
        public boolean checkOrigin(String originHeaderValue) {
            return true;
        }

        @Override
        public void modifyHandshake(ServerEndpointConfig sec, HandshakeRequest request, HandshakeResponse response) {
            // nothing to add: the upstream's handshake was completed before this one
        }
    }
}

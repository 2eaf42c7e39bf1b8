package dev.ideproxy.internal.websocket;

import java.nio.ByteBuffer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/**
 * The upstream side of one relay: the listener Jetty's client calls for that relay's own upstream
 * session. It demands explicitly (it is not {@code AutoDemanding}): Jetty delivers the next frame
 * only when the {@link Relay} calls {@code demand()}, after the browser took the previous one.
 * Fragments arrive one by one ({@code onWebSocketPartial*}) and are streamed, never reassembled.
 *
 * <p>Public only because Jetty binds listener methods through method handles. Jetty calls it one
 * event at a time; it holds no state of its own.
 */
public final class UpstreamEndpoint implements Session.Listener {
    private final Relay relay;

    UpstreamEndpoint(Relay relay) {
        this.relay = relay;
    }

    @Override
    public void onWebSocketOpen(Session upstreamSession) {
        relay.onUpstreamOpen(upstreamSession);
    }

    @Override
    public void onWebSocketPartialText(String payload, boolean last) {
        relay.onUpstreamText(payload, last);
    }

    @Override
    public void onWebSocketPartialBinary(ByteBuffer payload, boolean last, Callback callback) {
        relay.onUpstreamBinary(payload, last, callback);
    }

    @Override
    public void onWebSocketPing(ByteBuffer payload) {
        relay.onUpstreamPing(payload);
    }

    @Override
    public void onWebSocketPong(ByteBuffer payload) {
        relay.onUpstreamPong(payload);
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason) {
        relay.onUpstreamClose(statusCode, reason);
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        relay.onUpstreamError(cause);
    }
}

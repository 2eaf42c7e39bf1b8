package dev.ideproxy.internal.websocket;

import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.internal.tunnel.TunnelRequest;
import java.time.Duration;

/**
 * One proxied WebSocket as the registry, the revocation watcher and the drain see it, whichever way
 * it relays: {@link Relay} (message by message, through the container's Jakarta WebSocket and
 * Jetty's client) or {@link ByteRelay} (the bytes of the frames, over the Servlet upgrade).
 *
 * <p>Implementations are thread-safe; each ending method runs once, later calls do nothing.
 */
interface LiveRelay {
    TunnelRequest tunnel();

    /** The activity of the relay's workspace, which counts it as a live WebSocket while it is registered. */
    ActivityTracker.Entry activity();

    /** For logs: workspace and upstream path, never the query. */
    String describe();

    boolean isClosing();

    /** Ends the relay at {@code left} from now: the browser gets 1008 ("session expired"). */
    void expireAfter(Duration left);

    /** The session was revoked: the browser gets 1008; returns false when it was already closing. */
    boolean revoke();

    /** The node is draining: the browser gets 1012 (service restart), the upstream 1001. */
    void restart();

    /** ide-proxy stops: both sides get 1001. */
    void shutdown();

    /** Gives up on a relay whose browser side never opened. */
    void abandon(String why);
}

package dev.ideproxy.internal.session;

/**
 * Connections that outlive the request which authenticated them (the WebSocket relays of one
 * installed proxy), which must end when their session is revoked. Implemented by the WebSocket side
 * and registered with {@link Sessions}, so that sessions never depend on how connections are relayed.
 * Implementations are thread-safe.
 */
public interface LiveSessions {

    /**
     * Ends every live connection whose session is revoked now.
     *
     * @return how many were ended
     */
    int closeRevoked();

    /** True once these connections were shut down for good (their web application stopped). */
    boolean isStopped();
}

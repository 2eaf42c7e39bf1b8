package dev.ideproxy.internal.tunnel;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Serves a WebSocket upgrade that {@link IdeTunnelFilter} has authenticated and resolved. The
 * WebSocket side implements it; the filter knows nothing else of WebSockets. Implementations are
 * thread-safe.
 */
@FunctionalInterface
public interface UpgradeHandler {

    /** True for a GET that asks to upgrade to WebSocket. */
    static boolean isUpgrade(HttpServletRequest request) {
        String upgrade = request.getHeader("Upgrade");
        return "GET".equals(request.getMethod()) && upgrade != null && upgrade.trim().equalsIgnoreCase("websocket");
    }

    /**
     * Relays this upgrade to exactly {@code tunnel}'s upstream, or answers the browser with why not.
     * Returns once the browser is upgraded or answered.
     */
    void upgrade(TunnelRequest tunnel, HttpServletRequest request, HttpServletResponse response) throws IOException;
}

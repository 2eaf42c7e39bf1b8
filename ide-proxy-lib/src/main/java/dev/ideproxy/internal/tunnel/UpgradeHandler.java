package dev.ideproxy.internal.tunnel;

import dev.ideproxy.internal.web.BrowserHost;
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

    /**
     * True for a request that opens a WebSocket: over HTTP/1.1 a GET that asks to upgrade to it (RFC 6455),
     * over HTTP/2 an {@linkplain #isExtendedConnect extended CONNECT}.
     */
    static boolean isUpgrade(HttpServletRequest request) {
        if ("GET".equals(request.getMethod())) {
            String upgrade = request.getHeader("Upgrade");
            return upgrade != null && upgrade.trim().equalsIgnoreCase("websocket");
        }
        return isExtendedConnect(request);
    }

    /**
     * True for a WebSocket opened as a stream of an HTTP/2 connection (RFC 8441: Jetty advertises it, and
     * browsers then use it): a CONNECT over HTTP/2 with the WebSocket version header the RFC requires. The
     * Servlet API does not show CONNECT's {@code :protocol}; the container's own upgrade checks it. Such a
     * WebSocket has no {@code Sec-WebSocket-Key} and no connection of its own to hand over.
     */
    static boolean isExtendedConnect(HttpServletRequest request) {
        return "CONNECT".equals(request.getMethod()) && BrowserHost.isHttp2(request)
                && request.getHeader("Sec-WebSocket-Version") != null;
    }

    /**
     * True when {@code request}, an {@linkplain #isUpgrade upgrade}, is a WebSocket handshake of version
     * 13 that names its key, or one over HTTP/2, which has none ({@link #isExtendedConnect}).
     */
    static boolean isVersion13Handshake(HttpServletRequest request) {
        return "13".equals(request.getHeader("Sec-WebSocket-Version"))
                && (request.getHeader("Sec-WebSocket-Key") != null || isExtendedConnect(request));
    }

    /**
     * Relays this upgrade to exactly {@code tunnel}'s upstream, or answers the browser with why not.
     * Returns once the browser is upgraded or answered.
     */
    void upgrade(TunnelRequest tunnel, HttpServletRequest request, HttpServletResponse response) throws IOException;
}

package dev.ideproxy.websocket;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.tunnel.TunnelRequest;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** Serves WebSocket upgrades under the tunnel. (Placeholder until the WebSocket relay lands.) */
public final class WebSocketTunnel {
    private final IdeProxy proxy;

    public WebSocketTunnel(IdeProxy proxy) {
        this.proxy = proxy;
    }

    /** True for a GET that asks to upgrade to WebSocket. */
    public static boolean isUpgrade(HttpServletRequest request) {
        String upgrade = request.getHeader("Upgrade");
        return "GET".equals(request.getMethod()) && upgrade != null && upgrade.trim().equalsIgnoreCase("websocket");
    }

    /** Relays this upgrade to the tunnel request's own upstream. */
    public void upgrade(TunnelRequest tunnel, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        dev.ideproxy.web.Responses.page(response, dev.ideproxy.web.Failure.INTERNAL, "WebSocket relay not available yet.");
    }
}

package dev.ideproxy.tunnel;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.target.Target;
import dev.ideproxy.token.TokenRejectedException;
import dev.ideproxy.token.TokenType;
import dev.ideproxy.token.VerifiedToken;
import dev.ideproxy.web.Failure;
import dev.ideproxy.web.Responses;
import dev.ideproxy.websocket.WebSocketTunnel;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guards {@code /__ide/*}: checks the session cookie for the workspace in the path, resolves that
 * workspace's upstream once, attaches the resulting {@link TunnelRequest} to the request and hands
 * it to the WebSocket tunnel (upgrades) or down the chain to the HTTP proxy servlet (everything
 * else). A request that fails here never reaches an upstream.
 */
public final class IdeTunnelFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(IdeTunnelFilter.class);

    private final transient IdeProxy proxy;
    private final transient WebSocketTunnel webSockets;

    public IdeTunnelFilter(IdeProxy proxy, WebSocketTunnel webSockets) {
        this.proxy = proxy;
        this.webSockets = webSockets;
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String contextPath = request.getContextPath();
        String uri = request.getRequestURI();
        if (!uri.startsWith(contextPath + TunnelPaths.TUNNEL_PREFIX)) {
            Responses.page(response, Failure.UNKNOWN_WORKSPACE, "Not an IDE address.");
            return;
        }
        String afterPrefix = uri.substring(contextPath.length() + TunnelPaths.TUNNEL_PREFIX.length());
        int slash = afterPrefix.indexOf('/');
        String workspaceId = slash < 0 ? afterPrefix : afterPrefix.substring(0, slash);
        if (!proxy.isValidWorkspaceId(workspaceId)) {
            Responses.page(response, Failure.UNKNOWN_WORKSPACE, "There is no such workspace.");
            return;
        }
        String base = TunnelPaths.tunnelBase(contextPath, workspaceId);
        if (slash < 0) {
            // "/__ide/{id}": the cookie is scoped to "/__ide/{id}/", so send the browser there first.
            String query = request.getQueryString();
            response.setStatus(HttpServletResponse.SC_FOUND);
            response.setHeader("Location", query == null ? base : base + "?" + query);
            return;
        }
        String rawPath = afterPrefix.substring(slash);
        if (!consistent(request, workspaceId, rawPath)) {
            LOG.info("refused an ambiguous path under workspace {}", workspaceId);
            Responses.page(response, Failure.BAD_REQUEST, "This address is not valid.");
            return;
        }
        VerifiedToken session = authenticate(request, workspaceId);
        if (session == null) {
            Responses.page(response, Failure.UNAUTHENTICATED, "Your session for workspace " + workspaceId
                    + " is missing or has expired. Open the IDE again from the portal.");
            return;
        }
        Optional<Target> target = proxy.targetResolver().resolve(workspaceId);
        if (target.isEmpty()) {
            Responses.page(response, Failure.UNKNOWN_WORKSPACE, "Workspace " + workspaceId + " does not exist.");
            return;
        }
        String upstreamPath = proxy.config().stripPrefix() ? rawPath : uri.substring(contextPath.length());
        TunnelRequest tunnel = new TunnelRequest(workspaceId, session.user(), target.get(), base, upstreamPath,
                request.getQueryString());
        request.setAttribute(TunnelRequest.ATTRIBUTE, tunnel);
        if (WebSocketTunnel.isUpgrade(request)) {
            webSockets.upgrade(tunnel, request, response);
        } else {
            chain.doFilter(request, response);
        }
    }

    /** The session token of the first cookie that verifies for this workspace, or null. */
    private VerifiedToken authenticate(HttpServletRequest request, String workspaceId) {
        List<String> values = proxy.sessionCookie().values(request);
        TokenRejectedException last = null;
        for (String value : values) {
            try {
                return proxy.tokens().verify(TokenType.SESSION, workspaceId, value);
            } catch (TokenRejectedException e) {
                last = e;
            }
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("no valid session for workspace {}: {}", workspaceId,
                    last == null ? "no cookie" : last.reason().text());
        }
        return null;
    }

    /**
     * The container routed this request by its decoded, normalised path; we forward the raw one.
     * Both must agree on the workspace, and the raw path must hold no dot-segments or encoded
     * separators that the upstream could read differently.
     */
    private static boolean consistent(HttpServletRequest request, String workspaceId, String rawPath) {
        String decoded = request.getPathInfo();
        if (decoded == null || !(decoded.equals("/" + workspaceId) || decoded.startsWith("/" + workspaceId + "/"))) {
            return false;
        }
        String lower = rawPath.toLowerCase(java.util.Locale.ROOT);
        if (lower.contains("%2f") || lower.contains("%5c") || lower.contains("\\") || lower.contains(";")) {
            return false;
        }
        for (String segment : lower.split("/", -1)) {
            String dots = segment.replace("%2e", ".");
            if (dots.equals(".") || dots.equals("..")) {
                return false;
            }
        }
        return true;
    }
}

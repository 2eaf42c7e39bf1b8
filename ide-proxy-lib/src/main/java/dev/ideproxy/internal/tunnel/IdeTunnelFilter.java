package dev.ideproxy.internal.tunnel;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.target.Target;
import dev.ideproxy.internal.token.TokenRejectedException;
import dev.ideproxy.internal.token.TokenService.Minted;
import dev.ideproxy.internal.token.TokenType;
import dev.ideproxy.internal.token.VerifiedToken;
import dev.ideproxy.internal.web.Failure;
import dev.ideproxy.internal.web.LogSafe;
import dev.ideproxy.internal.web.Responses;
import dev.ideproxy.internal.websocket.WebSocketTunnel;
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
 * Guards {@code /__ide/*}: checks the path ({@link PathGuard}) and the session cookie for the
 * workspace in the path, resolves that workspace's upstream once, attaches the resulting
 * {@link TunnelRequest} to the request and hands it to the WebSocket tunnel (upgrades) or down the
 * chain to the HTTP proxy servlet (everything else). A request that fails here never reaches an
 * upstream. A session cookie with less than half of its idle lifetime left is renewed on the way
 * (a {@code Set-Cookie} on this response, which is then not cacheable).
 */
public final class IdeTunnelFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(IdeTunnelFilter.class);
    /** Request attribute set (to {@code Boolean.TRUE}) when this response renews the session cookie. */
    public static final String SESSION_RENEWED = IdeTunnelFilter.class.getName() + ".sessionRenewed";

    private final transient IdeProxy proxy;
    private final transient WebSocketTunnel webSockets;

    public IdeTunnelFilter(IdeProxy proxy, WebSocketTunnel webSockets) {
        this.proxy = proxy;
        this.webSockets = webSockets;
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        // The context path as configured, not as the client spelled it (Tomcat returns "/port%61l" as is).
        String contextPath = request.getServletContext().getContextPath();
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
        if (!proxy.workspaceOrigins().accepts(request, workspaceId)) {
            // Host mode: each workspace answers on its own host only, so that it has an origin of its own.
            LOG.info("refused {} for workspace {}: not the workspace's own host", LogSafe.uri(request), workspaceId);
            Responses.page(response, Failure.UNKNOWN_WORKSPACE, "This is not the address of workspace " + workspaceId + ".");
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
        String problem = PathGuard.problem(rawPath);
        if (problem == null && !decodedPathNamesWorkspace(request, workspaceId)) {
            problem = "the container reads it as another path";
        }
        if (problem != null) {
            LOG.info("refused {} for workspace {}: {}", LogSafe.uri(request), workspaceId, problem);
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
        renewIfDue(request, response, session, base);
        String upstreamPath = proxy.config().stripPrefix() ? rawPath : uri.substring(contextPath.length());
        TunnelRequest tunnel = new TunnelRequest(workspaceId, session.user(), target.get(), base, upstreamPath,
                request.getQueryString(), sessionEnds(session));
        request.setAttribute(TunnelRequest.ATTRIBUTE, tunnel);
        if (WebSocketTunnel.isUpgrade(request)) {
            webSockets.upgrade(tunnel, request, response);
        } else {
            chain.doFilter(request, response);
        }
    }

    /** When the session reaches its maximum lifetime, however often renewed; null if it carries no start. */
    private java.time.Instant sessionEnds(VerifiedToken session) {
        return session.sessionStart() == null ? null : session.sessionStart().plus(proxy.tokens().sessionMaxLifetime());
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

    /** Re-issues the session cookie when less than half of its idle lifetime is left. */
    private void renewIfDue(HttpServletRequest request, HttpServletResponse response, VerifiedToken session,
                            String base) {
        Optional<Minted> renewed = proxy.tokens().renewal(session);
        if (renewed.isEmpty()) {
            return;
        }
        response.addHeader("Set-Cookie", proxy.sessionCookie().setCookieHeader(request, base, renewed.get(),
                proxy.clock().instant()));
        // A response that carries a session must never be stored by a shared cache.
        response.setHeader("Cache-Control", "no-store");
        request.setAttribute(SESSION_RENEWED, Boolean.TRUE);
        LOG.debug("session of {} on workspace {} renewed until {}", session.user(), session.workspaceId(),
                renewed.get().expiresAt());
    }

    /**
     * The container routed this request by its decoded, normalised path; we forward the raw one
     * (checked by {@link PathGuard}). Both must name the same workspace.
     */
    private static boolean decodedPathNamesWorkspace(HttpServletRequest request, String workspaceId) {
        String decoded;
        try {
            decoded = request.getPathInfo();
        } catch (IllegalArgumentException e) {
            return false; // a container that cannot decode the path unambiguously
        }
        return decoded != null && (decoded.equals("/" + workspaceId) || decoded.startsWith("/" + workspaceId + "/"));
    }
}

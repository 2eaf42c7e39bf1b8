package dev.ideproxy.bootstrap;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.access.AccessDecision;
import dev.ideproxy.target.Target;
import dev.ideproxy.token.TokenRejectedException;
import dev.ideproxy.token.TokenService.Minted;
import dev.ideproxy.token.TokenType;
import dev.ideproxy.token.VerifiedToken;
import dev.ideproxy.tunnel.TunnelPaths;
import dev.ideproxy.web.Failure;
import dev.ideproxy.web.Responses;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two endpoints of the token bootstrap, mapped on {@code /api/dev/*}:
 * <ul>
 *   <li>{@code POST /api/dev/{id}/ide-token}: the access policy decides, then a short-lived bootstrap
 *   token and its URL are returned as JSON;</li>
 *   <li>{@code GET /api/dev/{id}/ide?token=...}: the token is verified, a session cookie scoped to
 *   {@code /__ide/{id}/} is set and the browser is sent there with a 303.</li>
 * </ul>
 */
public final class IdeBootstrapServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(IdeBootstrapServlet.class);
    private static final String MINT = "ide-token";
    private static final String BOOTSTRAP = "ide";

    private final transient IdeProxy proxy;

    public IdeBootstrapServlet(IdeProxy proxy) {
        this.proxy = proxy;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        // pathInfo is "/{id}/ide-token" or "/{id}/ide"; anything else is not ours.
        String pathInfo = request.getPathInfo();
        String[] parts = pathInfo == null ? new String[0] : pathInfo.split("/", -1);
        if (parts.length != 3 || !parts[0].isEmpty()
                || !(MINT.equals(parts[2]) || BOOTSTRAP.equals(parts[2]))) {
            Responses.json(response, Failure.UNKNOWN_WORKSPACE, "no such endpoint");
            return;
        }
        String workspaceId = parts[1];
        boolean mint = MINT.equals(parts[2]);
        String method = request.getMethod();
        if (mint && !"POST".equals(method)) {
            response.setHeader("Allow", "POST");
            Responses.json(response, Failure.METHOD_NOT_ALLOWED, "use POST to request an IDE token");
            return;
        }
        if (!mint && !"GET".equals(method) && !"HEAD".equals(method)) {
            response.setHeader("Allow", "GET, HEAD");
            Responses.page(response, Failure.METHOD_NOT_ALLOWED, "Open this address with GET.");
            return;
        }
        if (!proxy.isValidWorkspaceId(workspaceId)) {
            if (mint) {
                Responses.json(response, Failure.UNKNOWN_WORKSPACE, "unknown workspace");
            } else {
                Responses.page(response, Failure.UNKNOWN_WORKSPACE, "There is no such workspace.");
            }
            return;
        }
        if (mint) {
            mint(request, response, workspaceId);
        } else {
            bootstrap(request, response, workspaceId);
        }
    }

    private void mint(HttpServletRequest request, HttpServletResponse response, String workspaceId) throws IOException {
        AccessDecision decision = proxy.accessPolicy().check(request, workspaceId);
        switch (decision.outcome()) {
            case UNAUTHENTICATED -> {
                LOG.info("token mint for workspace {} refused: {}", workspaceId, decision.reason());
                response.setHeader("WWW-Authenticate", "Bearer");
                Responses.json(response, Failure.UNAUTHENTICATED, decision.reason());
                return;
            }
            case FORBIDDEN -> {
                LOG.info("token mint for workspace {} refused to {}: {}", workspaceId, decision.user(), decision.reason());
                Responses.json(response, Failure.FORBIDDEN, decision.reason());
                return;
            }
            default -> {
                // allowed: go on
            }
        }
        if (proxy.targetResolver().resolve(workspaceId).isEmpty()) {
            Responses.json(response, Failure.UNKNOWN_WORKSPACE, "unknown workspace " + workspaceId);
            return;
        }
        Minted minted = proxy.tokens().mint(TokenType.BOOTSTRAP, workspaceId, decision.user());
        String url = TunnelPaths.bootstrapPath(request.getContextPath(), workspaceId)
                + "?token=" + URLEncoder.encode(minted.token(), StandardCharsets.US_ASCII);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("workspace", workspaceId);
        body.put("bootstrapUrl", url);
        body.put("expiresAt", minted.expiresAt().toString());
        body.put("expiresIn", proxy.tokens().ttl(TokenType.BOOTSTRAP).toSeconds());
        LOG.info("bootstrap token issued to {} for workspace {}", decision.user(), workspaceId);
        Responses.writeJson(response, HttpServletResponse.SC_OK, body);
    }

    private void bootstrap(HttpServletRequest request, HttpServletResponse response, String workspaceId)
            throws IOException {
        response.setHeader("Referrer-Policy", "no-referrer");
        VerifiedToken token;
        try {
            token = proxy.tokens().verify(TokenType.BOOTSTRAP, workspaceId, request.getParameter("token"));
        } catch (TokenRejectedException e) {
            LOG.info("bootstrap for workspace {} refused: {}", workspaceId, e.reason().text());
            Responses.page(response, Failure.UNAUTHENTICATED, "This IDE link cannot be used: "
                    + e.reason().text() + ". Open the IDE again from the portal.");
            return;
        }
        Optional<Target> target = proxy.targetResolver().resolve(workspaceId);
        if (target.isEmpty()) {
            Responses.page(response, Failure.UNKNOWN_WORKSPACE, "Workspace " + workspaceId + " no longer exists.");
            return;
        }
        Minted session = proxy.tokens().mint(TokenType.SESSION, workspaceId, token.user());
        String base = TunnelPaths.tunnelBase(request.getContextPath(), workspaceId);
        Duration maxAge = proxy.tokens().ttl(TokenType.SESSION);
        response.addHeader("Set-Cookie", proxy.sessionCookie().setCookieHeader(request, base, session.token(), maxAge));
        response.setHeader("Cache-Control", "no-store");
        response.setStatus(HttpServletResponse.SC_SEE_OTHER);
        response.setHeader("Location", base);
        LOG.info("session opened for {} on workspace {}", token.user(), workspaceId);
    }
}

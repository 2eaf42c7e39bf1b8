package dev.ideproxy.internal.diagnose;

import dev.ideproxy.internal.session.SessionCheckUnavailableException;
import dev.ideproxy.internal.session.Sessions;
import dev.ideproxy.internal.tunnel.OwnPathHandler;
import dev.ideproxy.internal.tunnel.UpgradeHandler;
import dev.ideproxy.internal.web.BrowserHost;
import dev.ideproxy.internal.web.Failure;
import dev.ideproxy.internal.web.LogSafe;
import dev.ideproxy.internal.web.Responses;
import dev.ideproxy.internal.web.TrustedProxies;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.websocket.server.ServerContainer;
import java.io.IOException;
import java.time.Clock;
import java.util.Map;
import java.util.function.BiPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code <base>.ide-proxy/...} for the tunnel filter:
 * <ul>
 *   <li>{@code diagnose}, {@code diagnose/diagnose.js}, {@code diagnose/diagnose.css}: the static page,
 *       to anyone (it holds nothing but code; a missing cookie is one of the things it shows);</li>
 *   <li>{@code diagnose/info} (GET or POST): {@link InfoReport}, the request's details only with a
 *       valid session for this workspace;</li>
 *   <li>{@code diagnose/echo}: a WebSocket the proxy answers itself ({@link EchoEndpoint}), with a valid
 *       session and an {@code Origin} the tunnel's WebSockets would accept;</li>
 *   <li>anything else: 404.</li>
 * </ul>
 * Never contacts an upstream, never renews a session. Thread-safe.
 */
public final class Diagnostics implements OwnPathHandler {
    private static final Logger LOG = LoggerFactory.getLogger(Diagnostics.class);
    /** The servlet context attribute of the Jakarta WebSocket server container (Jakarta WebSocket 2.1). */
    static final String SERVER_CONTAINER = "jakarta.websocket.server.ServerContainer";
    /** The page's own address under {@code <base>.ide-proxy/}. */
    public static final String PAGE = "diagnose";

    private final Sessions sessions;
    private final BiPredicate<String, String> originCheck;
    private final InfoReport info;
    private final Map<String, StaticFile> files;

    /**
     * @param originCheck {@code (origin, host) -> allowed}: the check tunnel WebSockets pass
     */
    public Diagnostics(Sessions sessions, BiPredicate<String, String> originCheck, TrustedProxies trustedProxies,
                       Clock clock) {
        this.sessions = sessions;
        this.originCheck = originCheck;
        this.info = new InfoReport(originCheck, trustedProxies, clock);
        this.files = Map.of(
                PAGE, StaticFile.load("diagnose.html", "text/html;charset=utf-8"),
                PAGE + "/diagnose.js", StaticFile.load("diagnose.js", "text/javascript;charset=utf-8"),
                PAGE + "/diagnose.css", StaticFile.load("diagnose.css", "text/css;charset=utf-8"));
    }

    @Override
    public void serve(String workspaceId, String path, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        StaticFile file = files.get(path);
        if (file != null) {
            if (!"GET".equals(request.getMethod())) {
                methodNotAllowed(response, "GET");
                return;
            }
            file.send(response);
            return;
        }
        switch (path) {
            case PAGE + "/info" -> info(workspaceId, request, response);
            case PAGE + "/echo" -> echo(workspaceId, request, response);
            default -> Responses.page(response, Failure.UNKNOWN_WORKSPACE,
                    "There is nothing here. The diagnostics page is at .ide-proxy/diagnose.");
        }
    }

    /** POST is accepted so that browsers send their {@code Origin} (they send none on a same-origin GET). */
    private void info(String workspaceId, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        String method = request.getMethod();
        if (!"GET".equals(method) && !"POST".equals(method)) {
            methodNotAllowed(response, "GET, POST");
            return;
        }
        Responses.writeJson(response, HttpServletResponse.SC_OK, info.of(session(workspaceId, request), request));
    }

    private void echo(String workspaceId, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        SessionState session = session(workspaceId, request);
        if (session == SessionState.UNAVAILABLE) {
            response.setHeader("Retry-After", "5");
            Responses.page(response, Failure.SERVICE_UNAVAILABLE, "Your session for workspace " + workspaceId
                    + " cannot be checked right now. Try again in a few seconds.");
            return;
        }
        if (session != SessionState.VALID) {
            Responses.page(response, Failure.UNAUTHENTICATED, "Your session for workspace " + workspaceId
                    + " is missing or has expired. Open the IDE again from the portal.");
            return;
        }
        if (!UpgradeHandler.isUpgrade(request)) {
            // What a proxy that drops the Upgrade header turns a WebSocket handshake into.
            Responses.page(response, Failure.BAD_REQUEST, "This address takes WebSocket connections only.");
            return;
        }
        String origin = request.getHeader("Origin");
        if (!originCheck.test(origin, BrowserHost.of(request))) {
            LOG.info("diagnostics: refused an echo WebSocket for workspace {} from origin {}", workspaceId,
                    origin == null ? "(none)" : LogSafe.clean(origin));
            Responses.page(response, Failure.FORBIDDEN, "This page may not open a WebSocket to workspace "
                    + workspaceId + ".");
            return;
        }
        if (!UpgradeHandler.isVersion13Handshake(request)) {
            Responses.page(response, Failure.BAD_REQUEST, "This is not a valid WebSocket handshake (version 13).");
            return;
        }
        ServerContainer container = (ServerContainer) request.getServletContext().getAttribute(SERVER_CONTAINER);
        if (container == null) {
            LOG.error("no Jakarta WebSocket container in this web application: enable WebSocket support in the server");
            Responses.page(response, Failure.INTERNAL, "WebSockets are not enabled on this server.");
            return;
        }
        try {
            container.upgradeHttpToWebSocket(request, response, EchoEndpoint.config(), Map.of());
        } catch (Exception e) {
            LOG.warn("diagnostics: the echo WebSocket upgrade for workspace {} failed: {}", workspaceId, LogSafe.safe(e));
            Responses.page(response, Failure.INTERNAL, "The WebSocket connection could not be established.");
        }
    }

    private SessionState session(String workspaceId, HttpServletRequest request) {
        try {
            return sessions.authenticate(request, workspaceId) != null ? SessionState.VALID : SessionState.NONE;
        } catch (SessionCheckUnavailableException e) {
            return SessionState.UNAVAILABLE;
        }
    }

    private static void methodNotAllowed(HttpServletResponse response, String allowed) throws IOException {
        response.setHeader("Allow", allowed);
        Responses.page(response, Failure.METHOD_NOT_ALLOWED, "Use " + allowed + ".");
    }

    /** What the session check of a diagnostics request found; the info endpoint reports it in lower case. */
    enum SessionState {
        /** A cookie that verified for this workspace and is not revoked. */
        VALID,
        /** No cookie, or none valid for this workspace (expired, revoked, altered, another workspace's). */
        NONE,
        /** A cookie verified, but the revocation store could not say whether it was revoked. */
        UNAVAILABLE
    }
}

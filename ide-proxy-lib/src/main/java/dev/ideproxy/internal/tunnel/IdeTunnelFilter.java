package dev.ideproxy.internal.tunnel;

import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.internal.session.SessionCheckUnavailableException;
import dev.ideproxy.internal.session.Sessions;
import dev.ideproxy.internal.telemetry.Telemetry;
import dev.ideproxy.internal.telemetry.Telemetry.Outcome;
import dev.ideproxy.internal.token.VerifiedToken;
import dev.ideproxy.internal.web.Failure;
import dev.ideproxy.internal.web.LogSafe;
import dev.ideproxy.internal.web.Responses;
import dev.ideproxy.target.Target;
import dev.ideproxy.target.TargetResolver;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Guards {@code /__ide/*}: checks the path ({@link PathGuard}) and the session cookie for the
 * workspace in the path, resolves that workspace's upstream once, attaches the resulting
 * {@link TunnelRequest} to the request and hands it to the {@link UpgradeHandler} (upgrades) or down the
 * chain to the HTTP proxy servlet (everything else). A request that fails here never reaches an
 * upstream. A session cookie with less than half of its idle lifetime left is renewed on the way
 * (a {@code Set-Cookie} on this response, which is then not cacheable). Each request that passes
 * counts as activity of its workspace ({@link ActivityTracker#request}).
 *
 * <p>ide-proxy's own paths, {@code /__ide/{id}/.ide-proxy/...} in any spelling, go to the
 * {@link OwnPathHandler} after the path checks and before the session check (the diagnostics page
 * must load without a cookie, since a missing cookie is one of the things it diagnoses); they are
 * never forwarded upstream and are not activity.
 *
 * <p>Every request it answers itself is counted here ({@link Telemetry#tunnelRequest}); the others are
 * counted where they end (the HTTP proxy, the WebSocket upgrade), timed from {@link #RECEIVED_NANOS}.
 */
public final class IdeTunnelFilter extends HttpFilter {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(IdeTunnelFilter.class);
    /** Request attribute set (to {@code Boolean.TRUE}) when this response renews the session cookie. */
    public static final String SESSION_RENEWED = IdeTunnelFilter.class.getName() + ".sessionRenewed";
    /**
     * Request attribute (a {@code Long}, only with telemetry) holding {@code System.nanoTime()} when this
     * filter first saw the request, so that the path that serves it times the whole request.
     */
    public static final String RECEIVED_NANOS = IdeTunnelFilter.class.getName() + ".receivedNanos";
    /** {@code Retry-After} of a request refused while sessions cannot be checked. */
    static final long RETRY_AFTER_SECONDS = 5;

    private final transient Predicate<String> validWorkspaceId;
    private final transient WorkspaceOrigins origins;
    private final transient Sessions sessions;
    private final transient TargetResolver targets;
    private final boolean stripPrefix;
    private final transient UpgradeHandler upgrades;
    private final transient OwnPathHandler ownPaths;
    private final transient Telemetry telemetry;
    private final transient ActivityTracker activity;

    /**
     * @param validWorkspaceId whether a path segment may name a workspace ({@code workspace.id-pattern})
     * @param stripPrefix      whether the upstream path leaves out {@code /__ide/{id}}
     * @param ownPaths         serves {@code /__ide/{id}/.ide-proxy/...}
     * @param telemetry        where requests refused here are counted
     */
    public IdeTunnelFilter(Predicate<String> validWorkspaceId, WorkspaceOrigins origins, Sessions sessions,
                           TargetResolver targets, boolean stripPrefix, UpgradeHandler upgrades,
                           OwnPathHandler ownPaths, Telemetry telemetry, ActivityTracker activity) {
        this.validWorkspaceId = validWorkspaceId;
        this.origins = origins;
        this.sessions = sessions;
        this.targets = targets;
        this.stripPrefix = stripPrefix;
        this.upgrades = upgrades;
        this.ownPaths = ownPaths;
        this.telemetry = telemetry;
        this.activity = activity;
    }

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        long received = System.nanoTime();
        // The context path as configured, not as the client spelled it (Tomcat returns "/port%61l" as is).
        String contextPath = request.getServletContext().getContextPath();
        String uri = request.getRequestURI();
        if (!uri.startsWith(contextPath + TunnelPaths.TUNNEL_PREFIX)) {
            Responses.page(response, Failure.UNKNOWN_WORKSPACE, "Not an IDE address.");
            answered(request, response, null, Outcome.REFUSED, received);
            return;
        }
        String afterPrefix = uri.substring(contextPath.length() + TunnelPaths.TUNNEL_PREFIX.length());
        int slash = afterPrefix.indexOf('/');
        String workspaceId = slash < 0 ? afterPrefix : afterPrefix.substring(0, slash);
        if (!validWorkspaceId.test(workspaceId)) {
            Responses.page(response, Failure.UNKNOWN_WORKSPACE, "There is no such workspace.");
            answered(request, response, null, Outcome.REFUSED, received);
            return;
        }
        if (!origins.accepts(request, workspaceId)) {
            // Host mode: each workspace answers on its own host only, so that it has an origin of its own.
            LOG.info("refused {} for workspace {}: not the workspace's own host", LogSafe.uri(request), workspaceId);
            Responses.page(response, Failure.UNKNOWN_WORKSPACE, "This is not the address of workspace " + workspaceId + ".");
            answered(request, response, null, Outcome.REFUSED, received);
            return;
        }
        String base = TunnelPaths.tunnelBase(contextPath, workspaceId);
        if (slash < 0) {
            // "/__ide/{id}": the cookie is scoped to "/__ide/{id}/", so send the browser there first.
            String query = request.getQueryString();
            response.setStatus(HttpServletResponse.SC_FOUND);
            response.setHeader("Location", query == null ? base : base + "?" + query);
            answered(request, response, null, Outcome.REDIRECTED, received);
            return;
        }
        String rawPath = afterPrefix.substring(slash);
        String problem = PathGuard.problem(rawPath);
        String decodedPath = decodedPath(request);
        if (problem == null && !namesWorkspace(decodedPath, workspaceId)) {
            problem = "the container reads it as another path";
        }
        if (problem != null) {
            LOG.info("refused {} for workspace {}: {}", LogSafe.uri(request), workspaceId, problem);
            Responses.page(response, Failure.BAD_REQUEST, "This address is not valid.");
            answered(request, response, null, Outcome.REFUSED, received);
            return;
        }
        String ownPath = TunnelPaths.ownPath(decodedPath, workspaceId);
        if (ownPath != null) {
            ownPaths.serve(workspaceId, ownPath, request, response);
            return;
        }
        VerifiedToken session;
        try {
            session = sessions.authenticate(request, workspaceId);
        } catch (SessionCheckUnavailableException e) {
            // Fail closed, but not as "signed out": the session may be fine once the store answers.
            response.setHeader("Retry-After", Long.toString(RETRY_AFTER_SECONDS));
            Responses.page(response, Failure.SERVICE_UNAVAILABLE, "Your session for workspace " + workspaceId
                    + " cannot be checked right now. Reload this page in a few seconds.");
            answered(request, response, null, Outcome.REFUSED, received);
            return;
        }
        if (session == null) {
            Responses.page(response, Failure.UNAUTHENTICATED, "Your session for workspace " + workspaceId
                    + " is missing or has expired. Open the IDE again from the portal.");
            answered(request, response, null, Outcome.REFUSED, received);
            return;
        }
        Optional<Target> target = targets.resolve(workspaceId);
        if (target.isEmpty()) {
            Responses.page(response, Failure.UNKNOWN_WORKSPACE, "Workspace " + workspaceId + " does not exist.");
            answered(request, response, workspaceId, Outcome.REFUSED, received);
            return;
        }
        if (sessions.renewIfDue(request, response, session, base)) {
            request.setAttribute(SESSION_RENEWED, Boolean.TRUE);
        }
        String upstreamPath = stripPrefix ? rawPath : uri.substring(contextPath.length());
        TunnelRequest tunnel = new TunnelRequest(workspaceId, session.user(), target.get(), base, upstreamPath,
                request.getQueryString(), session.sessionStart(), sessions.ends(session));
        request.setAttribute(TunnelRequest.ATTRIBUTE, tunnel);
        if (telemetry.isEnabled()) {
            request.setAttribute(RECEIVED_NANOS, received);
        }
        activity.request(workspaceId, session.user());
        if (UpgradeHandler.isUpgrade(request)) {
            upgrades.upgrade(tunnel, request, response);
        } else {
            chain.doFilter(request, response);
        }
    }

    /** The container's decoded, normalised path after {@code /__ide}, or null when it cannot give one. */
    private static String decodedPath(HttpServletRequest request) {
        try {
            return request.getPathInfo();
        } catch (IllegalArgumentException e) {
            return null; // a container that cannot decode the path unambiguously
        }
    }

    /** Counts a request this filter answered itself. */
    private void answered(HttpServletRequest request, HttpServletResponse response, String workspaceId, Outcome outcome,
                          long received) {
        telemetry.tunnelRequest(workspaceId, request.getMethod(), response.getStatus(), outcome,
                System.nanoTime() - received);
    }

    /**
     * The nanoTime at which the tunnel filter first saw {@code request}, or now when it left none
     * (telemetry off, or the request did not pass it).
     */
    public static long receivedNanos(HttpServletRequest request) {
        return request.getAttribute(RECEIVED_NANOS) instanceof Long received ? received : System.nanoTime();
    }

    /**
     * The container routed this request by its decoded, normalised path; we forward the raw one
     * (checked by {@link PathGuard}). Both must name the same workspace.
     */
    private static boolean namesWorkspace(String decoded, String workspaceId) {
        return decoded != null && (decoded.equals("/" + workspaceId) || decoded.startsWith("/" + workspaceId + "/"));
    }
}

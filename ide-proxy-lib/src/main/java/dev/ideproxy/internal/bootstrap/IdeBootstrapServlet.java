package dev.ideproxy.internal.bootstrap;

import dev.ideproxy.access.AccessDecision;
import dev.ideproxy.access.AccessPolicy;
import dev.ideproxy.activity.WorkspaceActivity;
import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.internal.limit.RateLimitedException;
import dev.ideproxy.internal.limit.RateLimits;
import dev.ideproxy.internal.session.Sessions;
import dev.ideproxy.internal.telemetry.Telemetry;
import dev.ideproxy.internal.telemetry.Telemetry.TokenOutcome;
import dev.ideproxy.internal.token.TokenRejectedException;
import dev.ideproxy.internal.token.TokenService.Minted;
import dev.ideproxy.internal.token.VerifiedToken;
import dev.ideproxy.internal.tunnel.PathGuard;
import dev.ideproxy.internal.tunnel.TunnelPaths;
import dev.ideproxy.internal.tunnel.WorkspaceOrigins;
import dev.ideproxy.target.Target;
import dev.ideproxy.target.TargetResolver;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import dev.ideproxy.internal.web.Failure;
import dev.ideproxy.internal.web.LogSafe;
import dev.ideproxy.internal.web.Queries;
import dev.ideproxy.internal.web.Responses;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URLEncoder;
import java.time.Clock;
import java.time.Instant;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoints of the token bootstrap, mapped on {@code /api/dev/*}:
 * <ul>
 *   <li>{@code POST /api/dev/{id}/ide-token}: the access policy decides, then a short-lived bootstrap
 *   token and its URL are returned as JSON;</li>
 *   <li>{@code GET /api/dev/{id}/ide?token=...[&path=...]}: the token is verified and used up (a
 *   second use is refused), a session cookie scoped to {@code /__ide/{id}/} is set and the browser is
 *   sent with a 303 to {@code /__ide/{id}/}, or to {@code path} when it lies inside that tunnel;</li>
 *   <li>{@code POST /api/dev/{id}/logout}: clears that workspace's session cookie. It lives here, not
 *   under the tunnel, so that it shadows no path of the workspace; it needs no cookie, since clearing
 *   one only takes a {@code Set-Cookie} with the cookie's path.</li>
 *   <li>{@code POST /api/dev/{id}/revoke[?user=...]}: the access policy decides, as for a token; then
 *   every session of the workspace (or of that user on it) that began up to now is ended, live
 *   WebSockets included ({@link Sessions#revoke}). The workspace need not exist any more.</li>
 *   <li>{@code GET /api/dev/{id}/activity}: the access policy decides, as for a token; then the
 *   workspace's last activity, its user and its live WebSockets as JSON ({@link ActivityTracker#find}),
 *   for the portal.</li>
 * </ul>
 */
public final class IdeBootstrapServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(IdeBootstrapServlet.class);
    private static final String MINT = "ide-token";
    private static final String BOOTSTRAP = "ide";
    private static final String LOGOUT = "logout";
    private static final String REVOKE = "revoke";
    private static final String ACTIVITY = "activity";
    /** Optional parameter of the revoke endpoint: end only this user's sessions. */
    public static final String USER_PARAMETER = "user";
    /** Query parameter of the bootstrap holding the token. */
    public static final String TOKEN_PARAMETER = "token";
    /** Optional query parameter of the bootstrap: where inside the tunnel to land. */
    public static final String PATH_PARAMETER = "path";

    private final transient Predicate<String> validWorkspaceId;
    private final transient WorkspaceOrigins origins;
    private final transient AccessPolicy accessPolicy;
    private final transient TargetResolver targets;
    private final transient Sessions sessions;
    private final transient RateLimits limits;
    private final transient Clock clock;
    private final transient Telemetry telemetry;
    private final transient ActivityTracker activity;

    /**
     * @param validWorkspaceId whether a path segment may name a workspace ({@code workspace.id-pattern})
     * @param telemetry        where the outcome of each mint and bootstrap is counted
     */
    public IdeBootstrapServlet(Predicate<String> validWorkspaceId, WorkspaceOrigins origins, AccessPolicy accessPolicy,
                               TargetResolver targets, Sessions sessions, RateLimits limits, Clock clock,
                               Telemetry telemetry, ActivityTracker activity) {
        this.validWorkspaceId = validWorkspaceId;
        this.origins = origins;
        this.accessPolicy = accessPolicy;
        this.targets = targets;
        this.sessions = sessions;
        this.limits = limits;
        this.clock = clock;
        this.telemetry = telemetry;
        this.activity = activity;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        // pathInfo is "/{id}/ide-token" or "/{id}/ide"; anything else is not ours.
        String pathInfo = request.getPathInfo();
        String[] parts = pathInfo == null ? new String[0] : pathInfo.split("/", -1);
        if (parts.length != 3 || !parts[0].isEmpty()
                || !(MINT.equals(parts[2]) || BOOTSTRAP.equals(parts[2]) || LOGOUT.equals(parts[2])
                || REVOKE.equals(parts[2]) || ACTIVITY.equals(parts[2]))) {
            Responses.json(response, Failure.UNKNOWN_WORKSPACE, "no such endpoint");
            return;
        }
        String workspaceId = parts[1];
        String endpoint = parts[2];
        // The API endpoints answer JSON; the ones a browser opens answer a page.
        boolean answersJson = MINT.equals(endpoint) || REVOKE.equals(endpoint) || ACTIVITY.equals(endpoint);
        String invalid = null;
        if (!request.getRequestURI().equals(contextPath(request) + "/api/dev/" + workspaceId + "/" + endpoint)) {
            // Reached through encoding or dot-segments (e.g. /__ide/%2e%2e/api/dev/...): refuse, as the tunnel does.
            invalid = "not the plain address of an endpoint";
        } else if (!Queries.decodes(request)) {
            // The containers refuse to decode a query such as ?token=%zz by throwing: Jetty's error page would
            // then show the exception, its stack and the whole address, token included. Answered here instead.
            invalid = "its query cannot be decoded";
        }
        if (invalid != null) {
            LOG.info("refused {}: {}", LogSafe.uri(request), invalid);
            count(endpoint, null, TokenOutcome.INVALID);
            if (answersJson) {
                Responses.json(response, Failure.BAD_REQUEST, "not a valid address");
            } else {
                Responses.page(response, Failure.BAD_REQUEST, "This address is not valid.");
            }
            return;
        }
        String method = request.getMethod();
        if (ACTIVITY.equals(endpoint) && !"GET".equals(method)) {
            response.setHeader("Allow", "GET");
            Responses.json(response, Failure.METHOD_NOT_ALLOWED, "use GET to read the activity");
            return;
        }
        if (answersJson && !ACTIVITY.equals(endpoint) && !"POST".equals(method)) {
            count(endpoint, null, TokenOutcome.INVALID);
            response.setHeader("Allow", "POST");
            Responses.json(response, Failure.METHOD_NOT_ALLOWED, MINT.equals(endpoint)
                    ? "use POST to request an IDE token" : "use POST to revoke sessions");
            return;
        }
        if (BOOTSTRAP.equals(endpoint) && !"GET".equals(method)) {
            // Not even HEAD: answering it would use the single-use token up without setting a cookie.
            count(endpoint, null, TokenOutcome.INVALID);
            response.setHeader("Allow", "GET");
            Responses.page(response, Failure.METHOD_NOT_ALLOWED, "Open this address with GET.");
            return;
        }
        if (LOGOUT.equals(endpoint) && !"POST".equals(method)) {
            response.setHeader("Allow", "POST");
            Responses.page(response, Failure.METHOD_NOT_ALLOWED, "Sign out with POST.");
            return;
        }
        if (!validWorkspaceId.test(workspaceId)) {
            count(endpoint, null, TokenOutcome.UNKNOWN_WORKSPACE);
            if (answersJson) {
                Responses.json(response, Failure.UNKNOWN_WORKSPACE, "unknown workspace");
            } else {
                Responses.page(response, Failure.UNKNOWN_WORKSPACE, "There is no such workspace.");
            }
            return;
        }
        switch (endpoint) {
            case MINT -> mint(request, response, workspaceId);
            case BOOTSTRAP -> bootstrap(request, response, workspaceId);
            case REVOKE -> revoke(request, response, workspaceId);
            case ACTIVITY -> activity(request, response, workspaceId);
            default -> logout(request, response, workspaceId);
        }
    }

    /**
     * Asks the access policy; answers 401 or 403 itself and returns null when it does not allow.
     *
     * @param action for the log, e.g. "token mint"
     */
    private AccessDecision allowed(HttpServletRequest request, HttpServletResponse response, String workspaceId,
                                   String action) throws IOException {
        AccessDecision decision = accessPolicy.check(request, workspaceId);
        switch (decision.outcome()) {
            case UNAUTHENTICATED -> {
                LOG.info("{} for workspace {} refused: {}", action, workspaceId, decision.reason());
                response.setHeader("WWW-Authenticate", "Bearer");
                Responses.json(response, Failure.UNAUTHENTICATED, decision.reason());
                return null;
            }
            case FORBIDDEN -> {
                LOG.info("{} for workspace {} refused to {}: {}", action, workspaceId, decision.user(), decision.reason());
                Responses.json(response, Failure.FORBIDDEN, decision.reason());
                return null;
            }
            default -> {
                return decision;
            }
        }
    }

    private void mint(HttpServletRequest request, HttpServletResponse response, String workspaceId) throws IOException {
        AccessDecision decision = allowed(request, response, workspaceId, "token mint");
        if (decision == null) {
            telemetry.mint(null, response.getStatus() == HttpServletResponse.SC_UNAUTHORIZED
                    ? TokenOutcome.UNAUTHENTICATED : TokenOutcome.FORBIDDEN);
            return;
        }
        try {
            limits.mint(decision.user(), workspaceId);
        } catch (RateLimitedException e) {
            telemetry.mint(workspaceId, TokenOutcome.RATE_LIMITED);
            LOG.info("token mint for workspace {} refused to {}: {}", workspaceId, decision.user(), e.getMessage());
            response.setHeader("Retry-After", Long.toString(e.retryAfterSeconds()));
            Responses.json(response, Failure.TOO_MANY_REQUESTS, e.getMessage() + "; try again in "
                    + e.retryAfterSeconds() + " s");
            return;
        }
        if (!origins.canServe(workspaceId)) {
            telemetry.mint(workspaceId, TokenOutcome.UNKNOWN_WORKSPACE);
            Responses.json(response, Failure.UNKNOWN_WORKSPACE, "workspace " + workspaceId + " cannot have an origin of"
                    + " its own: with workspace.origin set, ids must be lower-case letters, digits and hyphens");
            return;
        }
        if (targets.resolve(workspaceId).isEmpty()) {
            telemetry.mint(workspaceId, TokenOutcome.UNKNOWN_WORKSPACE);
            Responses.json(response, Failure.UNKNOWN_WORKSPACE, "unknown workspace " + workspaceId);
            return;
        }
        Minted minted = sessions.mintBootstrap(workspaceId, decision.user());
        // Host mode: an absolute URL on the workspace's own origin, where its cookie must be set.
        String url = origins.prefix(workspaceId) + TunnelPaths.bootstrapPath(contextPath(request), workspaceId)
                + "?token=" + URLEncoder.encode(minted.token(), StandardCharsets.US_ASCII);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("workspace", workspaceId);
        body.put("bootstrapUrl", url);
        body.put("expiresAt", minted.expiresAt().toString());
        body.put("expiresIn", sessions.bootstrapTtl().toSeconds());
        LOG.info("bootstrap token issued to {} for workspace {}", decision.user(), workspaceId);
        telemetry.mint(workspaceId, TokenOutcome.OK);
        Responses.writeJson(response, HttpServletResponse.SC_OK, body);
    }

    private void bootstrap(HttpServletRequest request, HttpServletResponse response, String workspaceId)
            throws IOException {
        response.setHeader("Referrer-Policy", "no-referrer");
        if (!origins.accepts(request, workspaceId)) {
            // Host mode: the cookie belongs on the workspace's own host. Checked before the token is used.
            LOG.info("bootstrap for workspace {} refused: not the workspace's own host", workspaceId);
            telemetry.bootstrap(null, TokenOutcome.INVALID);
            Responses.page(response, Failure.UNKNOWN_WORKSPACE, "This is not the address of workspace " + workspaceId
                    + ". Open the IDE again from the portal.");
            return;
        }
        String base = TunnelPaths.tunnelBase(contextPath(request), workspaceId);
        String[] paths = request.getParameterValues(PATH_PARAMETER);
        String landing = paths == null ? base : paths.length == 1 ? PathGuard.landingPath(paths[0], base) : null;
        if (landing == null) {
            // Checked before the token, so a mistyped link does not use the token up.
            LOG.info("bootstrap for workspace {} refused: the target path leaves the workspace's tunnel", workspaceId);
            telemetry.bootstrap(null, TokenOutcome.INVALID);
            Responses.page(response, Failure.BAD_REQUEST, "This IDE link is not valid: its target path must stay"
                    + " inside the workspace (" + base + "). Open the IDE again from the portal.");
            return;
        }
        String[] tokens = request.getParameterValues(TOKEN_PARAMETER);
        VerifiedToken token;
        try {
            if (tokens != null && tokens.length > 1) {
                throw new TokenRejectedException(TokenRejectedException.Reason.MALFORMED);
            }
            token = sessions.redeem(workspaceId, tokens == null ? null : tokens[0]);
        } catch (TokenRejectedException e) {
            // ALREADY_USED is found after the signature verified: the workspace is proven.
            telemetry.bootstrap(e.reason() == TokenRejectedException.Reason.ALREADY_USED ? workspaceId : null,
                    outcomeOf(e.reason()));
            if (e.reason() == TokenRejectedException.Reason.REVOCATION_UNKNOWN) {
                // Fail closed, and say it is temporary: the link is not used up.
                LOG.info("bootstrap for workspace {} refused: {}", workspaceId, e.reason().text());
                response.setHeader("Retry-After", "5");
                Responses.page(response, Failure.SERVICE_UNAVAILABLE, "The IDE cannot be opened right now. This link"
                        + " still works: open it again in a few seconds.");
                return;
            }
            refuse(response, workspaceId, e);
            return;
        } catch (RateLimitedException e) {
            telemetry.bootstrap(workspaceId, TokenOutcome.RATE_LIMITED);
            LOG.info("bootstrap for workspace {} refused: {}", workspaceId, e.getMessage());
            response.setHeader("Retry-After", Long.toString(e.retryAfterSeconds()));
            Responses.page(response, Failure.TOO_MANY_REQUESTS, "Too many IDE sessions were opened lately. This link"
                    + " still works: open it again in " + e.retryAfterSeconds() + " seconds.");
            return;
        } catch (ReplayStoreUnavailableException e) {
            telemetry.bootstrap(workspaceId, TokenOutcome.STORE_UNAVAILABLE);
            LOG.error("bootstrap for workspace {} refused, failing closed: {}", workspaceId, e.getMessage());
            response.setHeader("Retry-After", Long.toString(sessions.bootstrapTtl().toSeconds()));
            Responses.page(response, Failure.SERVICE_UNAVAILABLE, "The IDE cannot be opened right now."
                    + " Try again in a minute from the portal.");
            return;
        }
        Optional<Target> target = targets.resolve(workspaceId);
        if (target.isEmpty()) {
            telemetry.bootstrap(workspaceId, TokenOutcome.UNKNOWN_WORKSPACE);
            Responses.page(response, Failure.UNKNOWN_WORKSPACE, "Workspace " + workspaceId + " no longer exists.");
            return;
        }
        sessions.open(request, response, base, token);
        response.setStatus(HttpServletResponse.SC_SEE_OTHER);
        response.setHeader("Location", landing);
        telemetry.bootstrap(workspaceId, TokenOutcome.OK);
        LOG.info("session opened for {} on workspace {}", token.user(), workspaceId);
    }

    /** Counts a mint or bootstrap that ended before reaching its own handler (a bad address, method or id). */
    private void count(String endpoint, String workspaceId, TokenOutcome outcome) {
        if (MINT.equals(endpoint)) {
            telemetry.mint(workspaceId, outcome);
        } else if (BOOTSTRAP.equals(endpoint)) {
            telemetry.bootstrap(workspaceId, outcome);
        }
    }

    /** The outcome a refused bootstrap token is counted under. */
    static TokenOutcome outcomeOf(TokenRejectedException.Reason reason) {
        return switch (reason) {
            case EXPIRED, SESSION_ENDED -> TokenOutcome.EXPIRED;
            case ALREADY_USED -> TokenOutcome.REPLAYED;
            case BAD_SIGNATURE, UNKNOWN_KEY -> TokenOutcome.BAD_SIGNATURE;
            case REVOKED -> TokenOutcome.REVOKED;
            case REVOCATION_UNKNOWN -> TokenOutcome.STORE_UNAVAILABLE;
            case MISSING, MALFORMED, WRONG_WORKSPACE, WRONG_TYPE -> TokenOutcome.INVALID;
        };
    }

    /** The context path as configured, not as the client spelled it. */
    private static String contextPath(HttpServletRequest request) {
        return request.getServletContext().getContextPath();
    }

    private static void refuse(HttpServletResponse response, String workspaceId, TokenRejectedException e)
            throws IOException {
        LOG.info("bootstrap for workspace {} refused: {}", workspaceId, e.reason().text());
        Responses.page(response, Failure.UNAUTHENTICATED, "This IDE link cannot be used: "
                + e.reason().text() + ". Open the IDE again from the portal.");
    }

    /** Ends the sessions of the workspace, or of one user on it; the workspace need not resolve. */
    private void revoke(HttpServletRequest request, HttpServletResponse response, String workspaceId)
            throws IOException {
        AccessDecision decision = allowed(request, response, workspaceId, "session revocation");
        if (decision == null) {
            return;
        }
        String[] users = request.getParameterValues(USER_PARAMETER);
        if (users != null && (users.length > 1 || users[0].isBlank() || users[0].length() > 256)) {
            Responses.json(response, Failure.BAD_REQUEST, "give at most one non-empty user");
            return;
        }
        String user = users == null ? null : users[0];
        // Read before revoking: every session that began by this instant is surely ended.
        Instant revokedAt = clock.instant();
        int closed;
        try {
            closed = sessions.revoke(workspaceId, user);
        } catch (RuntimeException e) {
            LOG.error("session revocation for workspace {} failed: {}", workspaceId, e.toString());
            response.setHeader("Retry-After", "10");
            Responses.json(response, Failure.SERVICE_UNAVAILABLE, "the revocation could not be recorded; try again");
            return;
        }
        LOG.info("{} revoked the sessions of {} on workspace {}", decision.user(),
                user == null ? "every user" : LogSafe.clean(user), workspaceId);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("workspace", workspaceId);
        body.put("user", user);
        body.put("revokedAt", revokedAt.toString());
        body.put("closedWebSockets", closed);
        Responses.writeJson(response, HttpServletResponse.SC_OK, body);
    }

    /** The workspace's activity (null fields when none is known); the workspace need not resolve. */
    private void activity(HttpServletRequest request, HttpServletResponse response, String workspaceId)
            throws IOException {
        if (allowed(request, response, workspaceId, "activity read") == null) {
            return;
        }
        WorkspaceActivity found;
        try {
            found = activity.find(workspaceId).orElse(null);
        } catch (RuntimeException e) {
            LOG.error("activity of workspace {} cannot be read: the activity store cannot answer: {}", workspaceId,
                    e.toString());
            response.setHeader("Retry-After", "10");
            Responses.json(response, Failure.SERVICE_UNAVAILABLE, "the activity store cannot answer; try again");
            return;
        }
        Responses.writeJson(response, HttpServletResponse.SC_OK, ActivityJson.of(workspaceId, found, activity.now()));
    }

    /** Clears the workspace's session cookie; answers a short page whatever the cookie was. */
    private void logout(HttpServletRequest request, HttpServletResponse response, String workspaceId)
            throws IOException {
        String base = TunnelPaths.tunnelBase(contextPath(request), workspaceId);
        sessions.clear(request, response, base);
        LOG.info("session cookie of workspace {} cleared", workspaceId);
        Responses.notice(response, HttpServletResponse.SC_OK, "Signed out", "You are signed out of workspace " + workspaceId
                + " in this browser. Open the IDE again from the portal to continue.");
    }
}

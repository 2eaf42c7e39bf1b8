package dev.ideproxy.internal.session;

import dev.ideproxy.internal.limit.RateLimitedException;
import dev.ideproxy.internal.limit.RateLimits;
import dev.ideproxy.internal.telemetry.Telemetry;
import dev.ideproxy.internal.token.TokenRejectedException;
import dev.ideproxy.internal.token.TokenService;
import dev.ideproxy.internal.token.TokenService.Minted;
import dev.ideproxy.internal.token.TokenType;
import dev.ideproxy.internal.token.VerifiedToken;
import dev.ideproxy.internal.web.LogSafe;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A browser's sessions, from the bootstrap token that opens one to the revocation that ends it: the
 * session cookie that carries each ({@link SessionCookie}), the tokens inside it ({@link TokenService}),
 * and the live connections that must end with it ({@link LiveSessions}). The bootstrap endpoints, the
 * tunnel filter and the WebSocket side each use the part they need.
 *
 * <p>Thread-safe.
 */
public final class Sessions {
    private static final Logger LOG = LoggerFactory.getLogger(Sessions.class);

    private final TokenService tokens;
    private final SessionCookie cookie;
    private final RateLimits limits;
    private final Clock clock;
    private final Telemetry telemetry;
    private final List<LiveSessions> live = new CopyOnWriteArrayList<>();

    public Sessions(TokenService tokens, SessionCookie cookie, RateLimits limits, Clock clock, Telemetry telemetry) {
        this.tokens = tokens;
        this.cookie = cookie;
        this.limits = limits;
        this.clock = clock;
        this.telemetry = telemetry;
    }

    // ------------------------------------------------------------------ opening

    /** A bootstrap token for {@code user} on {@code workspaceId}. */
    public Minted mintBootstrap(String workspaceId, String user) {
        return tokens.mint(TokenType.BOOTSTRAP, workspaceId, user);
    }

    /** Lifetime of a bootstrap token. */
    public Duration bootstrapTtl() {
        return tokens.ttl(TokenType.BOOTSTRAP);
    }

    /**
     * Verifies a bootstrap token and uses it up (once across every node sharing the replay store),
     * unless its user or workspace opened too many sessions lately.
     *
     * @throws RateLimitedException over {@code limit.bootstrap-per-user} or {@code -per-workspace}; the token is not used up
     * @throws ReplayStoreUnavailableException when the replay store cannot tell; the token is not accepted
     */
    public VerifiedToken redeem(String workspaceId, String token)
            throws TokenRejectedException, RateLimitedException, ReplayStoreUnavailableException {
        VerifiedToken verified = tokens.verifyBootstrap(workspaceId, token);
        // Before the token is used up: a user over the limit keeps the link and fills no store.
        limits.bootstrap(verified.user(), workspaceId);
        return tokens.useUp(verified);
    }

    /** Opens the session a redeemed bootstrap token grants: its cookie, scoped to {@code tunnelBase}. */
    public void open(HttpServletRequest request, HttpServletResponse response, String tunnelBase,
                     VerifiedToken bootstrap) {
        Minted session = tokens.startSession(bootstrap);
        response.addHeader("Set-Cookie", cookie.setCookieHeader(request, tunnelBase, session, clock.instant()));
        response.setHeader("Cache-Control", "no-store");
    }

    /** Removes the session cookie of the tunnel at {@code tunnelBase} from this browser. */
    public void clear(HttpServletRequest request, HttpServletResponse response, String tunnelBase) {
        response.addHeader("Set-Cookie", cookie.clearCookieHeader(request, tunnelBase));
    }

    // ------------------------------------------------------------------ in use

    /**
     * The session of the first cookie that verifies for this workspace, or null.
     *
     * @throws SessionCheckUnavailableException when a cookie verified but the revocation store could
     *         not say whether its session was revoked (and the configuration refuses such sessions)
     */
    public VerifiedToken authenticate(HttpServletRequest request, String workspaceId)
            throws SessionCheckUnavailableException {
        TokenRejectedException last = null;
        boolean unknown = false;
        for (String value : cookie.values(request)) {
            try {
                return tokens.verify(TokenType.SESSION, workspaceId, value);
            } catch (TokenRejectedException e) {
                last = e;
                unknown |= e.reason() == TokenRejectedException.Reason.REVOCATION_UNKNOWN;
            }
        }
        if (unknown) {
            throw new SessionCheckUnavailableException();
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("no valid session for workspace {}: {}", workspaceId,
                    last == null ? "no cookie" : last.reason().text());
        }
        return null;
    }

    /**
     * Re-issues the session cookie on {@code response} when less than half of its idle lifetime is
     * left; such a response must never be stored by a shared cache, so it is marked {@code no-store}.
     *
     * @return true when the cookie was renewed
     */
    public boolean renewIfDue(HttpServletRequest request, HttpServletResponse response, VerifiedToken session,
                              String tunnelBase) {
        Optional<Minted> renewed = tokens.renewal(session);
        if (renewed.isEmpty()) {
            return false;
        }
        response.addHeader("Set-Cookie", cookie.setCookieHeader(request, tunnelBase, renewed.get(), clock.instant()));
        response.setHeader("Cache-Control", "no-store");
        telemetry.sessionRenewed(session.workspaceId());
        LOG.debug("session of {} on workspace {} renewed until {}", session.user(), session.workspaceId(),
                renewed.get().expiresAt());
        return true;
    }

    /** When {@code session} reaches its maximum lifetime, however often renewed; null if it carries no start. */
    public Instant ends(VerifiedToken session) {
        return session.sessionStart() == null ? null : session.sessionStart().plus(tokens.sessionMaxLifetime());
    }

    // ------------------------------------------------------------------ ending

    /**
     * Registers connections to end when their session is revoked, on {@link #revoke} and whenever
     * {@link #closeRevoked()} runs.
     */
    public void track(LiveSessions connections) {
        live.add(connections);
    }

    /**
     * Ends every session of {@code user} on {@code workspaceId} begun up to now, on every node sharing
     * the revocation store, and this node's live connections of those sessions.
     *
     * @return how many live connections this node closed
     * @throws RuntimeException what the revocation store throws when it cannot record the revocation
     */
    public int revoke(String workspaceId, String user) {
        tokens.revoke(workspaceId, user);
        telemetry.sessionsRevoked(workspaceId);
        int closed = closeRevoked();
        LOG.info("sessions revoked: workspace {}, user {}; {} live WebSocket(s) closed",
                workspaceId == null ? "(any)" : workspaceId, user == null ? "(any)" : LogSafe.clean(user), closed);
        return closed;
    }

    /** Ends this node's live connections whose sessions are revoked; returns how many. */
    public int closeRevoked() {
        live.removeIf(LiveSessions::isStopped);
        int closed = 0;
        for (LiveSessions connections : live) {
            closed += connections.closeRevoked();
        }
        return closed;
    }

    /**
     * True when the session of {@code user} on {@code workspaceId} begun at {@code sessionStart} was
     * revoked. Throws what the revocation store throws when it cannot tell.
     */
    public boolean isRevoked(String workspaceId, String user, Instant sessionStart) {
        return tokens.isRevoked(workspaceId, user, sessionStart);
    }

    /** True when sessions are served while the revocation store cannot answer ({@code session.revocation-unavailable=serve}). */
    public boolean servesWhileRevocationsUnknown() {
        return tokens.servesWhileRevocationsUnknown();
    }
}

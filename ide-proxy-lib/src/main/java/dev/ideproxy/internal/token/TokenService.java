package dev.ideproxy.internal.token;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.exceptions.AlgorithmMismatchException;
import com.auth0.jwt.exceptions.IncorrectClaimException;
import com.auth0.jwt.exceptions.JWTDecodeException;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.exceptions.MissingClaimException;
import com.auth0.jwt.exceptions.SignatureVerificationException;
import com.auth0.jwt.exceptions.TokenExpiredException;
import com.auth0.jwt.interfaces.DecodedJWT;
import com.auth0.jwt.interfaces.Verification;
import dev.ideproxy.internal.token.TokenRejectedException.Reason;
import dev.ideproxy.token.InMemoryRevocationStore;
import dev.ideproxy.token.ReplayStore;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import dev.ideproxy.token.RevocationStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mints and verifies the tokens ide-proxy issues itself: bootstrap tokens (in the bootstrap URL,
 * single-use) and session tokens (in the session cookie, renewed while in use up to a maximum
 * lifetime). Both are JWTs whose audience is the workspace id, whose {@code typ} claim tells them
 * apart and whose {@code kid} header names the {@link TokenKeys key} that signed them.
 *
 * <p>Thread-safe once built (as its {@link ReplayStore} must be).
 */
public final class TokenService {
    private static final Logger LOG = LoggerFactory.getLogger(TokenService.class);
    /** Issuer claim of every token ide-proxy signs. */
    public static final String ISSUER = "ide-proxy";
    /** Longest token accepted for verification, in characters; real ones are under 1,000. */
    public static final int MAX_TOKEN_CHARS = 4096;
    static final String TYPE_CLAIM = "typ";
    /** When the session began, in session tokens (the OpenID Connect claim of the same meaning). */
    static final String SESSION_START_CLAIM = "auth_time";
    /** Most verified session tokens remembered (about 1 KiB each). */
    static final int VERIFIED_SESSIONS_CAPACITY = 4096;

    private final TokenKeys keys;
    private final Duration bootstrapTtl;
    private final Duration sessionTtl;
    private final Duration sessionMaxLifetime;
    private final ReplayStore replayStore;
    private final RevocationStore revocations;
    private final boolean serveWhileRevocationsUnknown;
    private final Clock clock;
    /**
     * Session tokens that verified recently, by token: every request of a live IDE carries the same
     * cookie, and decoding plus HMAC-checking it again was the largest share of ide-proxy's own work
     * per proxied request. A hit re-checks everything that can change with time (expiry, session
     * lifetime) and the workspace; anything else falls through to a full verification. Bounded: it
     * is emptied when full.
     */
    private final ConcurrentHashMap<String, VerifiedToken> verifiedSessions = new ConcurrentHashMap<>();

    /**
     * @param keys               the active signing key and the retiring keys that still verify
     * @param bootstrapTtl       lifetime of bootstrap tokens
     * @param sessionTtl         idle lifetime of session tokens (each renewal starts it again)
     * @param sessionMaxLifetime absolute lifetime of a session, however often renewed
     * @param replayStore        remembers used bootstrap tokens
     * @param revocations        remembers sessions ended before their time
     * @param clock              time source; tests pass a fixed clock
     */
    public TokenService(TokenKeys keys, Duration bootstrapTtl, Duration sessionTtl, Duration sessionMaxLifetime,
                        ReplayStore replayStore, RevocationStore revocations, Clock clock) {
        this(keys, bootstrapTtl, sessionTtl, sessionMaxLifetime, replayStore, revocations, false, clock);
    }

    /**
     * As above.
     *
     * @param serveWhileRevocationsUnknown when the revocation store cannot answer: true serves session
     *                                     tokens that verify otherwise; false refuses them
     *                                     ({@link Reason#REVOCATION_UNKNOWN}). Bootstrap tokens are refused
     *                                     either way.
     */
    public TokenService(TokenKeys keys, Duration bootstrapTtl, Duration sessionTtl, Duration sessionMaxLifetime,
                        ReplayStore replayStore, RevocationStore revocations, boolean serveWhileRevocationsUnknown,
                        Clock clock) {
        this.serveWhileRevocationsUnknown = serveWhileRevocationsUnknown;
        this.keys = Objects.requireNonNull(keys, "keys");
        this.bootstrapTtl = positive(bootstrapTtl, "bootstrapTtl");
        this.sessionTtl = positive(sessionTtl, "sessionTtl");
        this.sessionMaxLifetime = positive(sessionMaxLifetime, "sessionMaxLifetime");
        this.replayStore = Objects.requireNonNull(replayStore, "replayStore");
        this.revocations = Objects.requireNonNull(revocations, "revocations");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** As above, with sessions revoked in this process only ({@link InMemoryRevocationStore}). */
    public TokenService(TokenKeys keys, Duration bootstrapTtl, Duration sessionTtl, Duration sessionMaxLifetime,
                        ReplayStore replayStore, Clock clock) {
        this(keys, bootstrapTtl, sessionTtl, sessionMaxLifetime, replayStore, new InMemoryRevocationStore(clock), clock);
    }

    /** Lifetime of a bootstrap token, or the idle lifetime of a session token. */
    public Duration ttl(TokenType type) {
        return type == TokenType.BOOTSTRAP ? bootstrapTtl : sessionTtl;
    }

    /** True when session tokens are served while the revocation store cannot answer. */
    public boolean servesWhileRevocationsUnknown() {
        return serveWhileRevocationsUnknown;
    }

    /** Absolute lifetime of a session. */
    public Duration sessionMaxLifetime() {
        return sessionMaxLifetime;
    }

    public TokenKeys keys() {
        return keys;
    }

    /**
     * Signs a new token of {@code type} for {@code user} on {@code workspaceId}; a session token
     * starts a new session now.
     */
    public Minted mint(TokenType type, String workspaceId, String user) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        if (type == TokenType.BOOTSTRAP) {
            return sign(type, workspaceId, user, now, now.plus(bootstrapTtl), null);
        }
        return sign(type, workspaceId, user, now, sessionExpiry(now, now), now);
    }

    /**
     * Verifies key, signature, issuer, expiry, type and that the token is for {@code workspaceId}; for
     * a session token also that its session is within its maximum lifetime and has not been revoked.
     *
     * @throws TokenRejectedException with the reason, never carrying the token itself
     */
    public VerifiedToken verify(TokenType type, String workspaceId, String token) throws TokenRejectedException {
        if (token == null || token.isEmpty()) {
            throw new TokenRejectedException(Reason.MISSING);
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            throw new TokenRejectedException(Reason.MALFORMED);
        }
        if (type == TokenType.SESSION) {
            VerifiedToken known = verifiedSessions.get(token);
            if (known != null && stillValid(known, workspaceId)) {
                return notRevoked(known);
            }
        }
        try {
            DecodedJWT unverified = JWT.decode(token);
            TokenKeys.Key key = keys.find(unverified.getKeyId())
                    .orElseThrow(() -> new TokenRejectedException(Reason.UNKNOWN_KEY));
            Verification verification = JWT.require(key.algorithm())
                    .withIssuer(ISSUER)
                    .withClaimPresence("exp")
                    .withClaimPresence("sub")
                    .withClaimPresence("jti")
                    .withClaim(TYPE_CLAIM, type.claim())
                    .withAudience(workspaceId)
                    // iat is informational; checking it would refuse tokens from a node whose clock runs ahead.
                    .ignoreIssuedAt();
            if (type == TokenType.SESSION) {
                verification.withClaimPresence(SESSION_START_CLAIM);
            } else {
                // When the portal decided: the start of the session this token opens.
                verification.withClaimPresence("iat");
            }
            DecodedJWT jwt = ClockedVerifier.build(verification, clock).verify(unverified);
            Instant sessionStart = jwt.getIssuedAtAsInstant();
            if (type == TokenType.SESSION) {
                sessionStart = jwt.getClaim(SESSION_START_CLAIM).asInstant();
                if (sessionStart == null) {
                    throw new TokenRejectedException(Reason.MALFORMED);
                }
                if (!clock.instant().isBefore(sessionStart.plus(sessionMaxLifetime))) {
                    throw new TokenRejectedException(Reason.SESSION_ENDED);
                }
            }
            VerifiedToken verified = new VerifiedToken(type, workspaceId, jwt.getSubject(), jwt.getId(),
                    jwt.getExpiresAtAsInstant(), sessionStart);
            if (type == TokenType.SESSION) {
                remember(token, verified);
                return notRevoked(verified);
            }
            return verified;
        } catch (TokenExpiredException e) {
            throw new TokenRejectedException(Reason.EXPIRED);
        } catch (SignatureVerificationException | AlgorithmMismatchException e) {
            throw new TokenRejectedException(Reason.BAD_SIGNATURE);
        } catch (IncorrectClaimException e) {
            throw new TokenRejectedException(switch (e.getClaimName()) {
                case "aud" -> Reason.WRONG_WORKSPACE;
                case TYPE_CLAIM -> Reason.WRONG_TYPE;
                default -> Reason.MALFORMED;
            });
        } catch (JWTDecodeException | MissingClaimException e) {
            throw new TokenRejectedException(Reason.MALFORMED);
        } catch (JWTVerificationException | IllegalArgumentException e) {
            throw new TokenRejectedException(Reason.MALFORMED);
        }
    }

    /**
     * Verifies a bootstrap token and uses it up: the first call for a token succeeds, every later one
     * (on this node, or on any node sharing the {@link ReplayStore}) fails with
     * {@link Reason#ALREADY_USED}.
     *
     * @throws ReplayStoreUnavailableException when the replay store cannot tell; the token is not accepted
     */
    public VerifiedToken redeem(String workspaceId, String token)
            throws TokenRejectedException, ReplayStoreUnavailableException {
        return useUp(verifyBootstrap(workspaceId, token));
    }

    /**
     * Verifies a bootstrap token as {@link #redeem} does, without using it up: for checks that must
     * come between (a rate limit), followed by {@link #useUp}.
     */
    public VerifiedToken verifyBootstrap(String workspaceId, String token) throws TokenRejectedException {
        // A link minted before a revocation that covers it must not open a session after it.
        return notRevoked(verify(TokenType.BOOTSTRAP, workspaceId, token));
    }

    /**
     * Uses up a bootstrap token that {@link #verifyBootstrap} accepted: the first call for it succeeds,
     * every later one (on any node sharing the {@link ReplayStore}) fails with {@link Reason#ALREADY_USED}.
     *
     * @throws ReplayStoreUnavailableException when the replay store cannot tell; the token is not accepted
     */
    public VerifiedToken useUp(VerifiedToken verified) throws TokenRejectedException, ReplayStoreUnavailableException {
        if (verified.type() != TokenType.BOOTSTRAP) {
            throw new IllegalArgumentException("only bootstrap tokens are used up");
        }
        boolean first;
        try {
            first = replayStore.markUsed(verified.tokenId(), verified.expiresAt());
        } catch (ReplayStoreUnavailableException e) {
            throw e;
        } catch (RuntimeException e) {
            // A custom store that fails in another way fails closed too.
            throw new ReplayStoreUnavailableException("the replay store failed: " + e.getClass().getSimpleName(), e);
        }
        if (!first) {
            throw new TokenRejectedException(Reason.ALREADY_USED);
        }
        return verified;
    }

    /**
     * The session token a redeemed bootstrap token opens. The session starts when the bootstrap token
     * was issued (the portal's decision), so its maximum lifetime counts from then and a revocation
     * made after the mint but before the bootstrap ends it.
     */
    public Minted startSession(VerifiedToken bootstrap) {
        if (bootstrap.type() != TokenType.BOOTSTRAP) {
            throw new IllegalArgumentException("a session starts from a bootstrap token");
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant start = bootstrap.sessionStart().truncatedTo(ChronoUnit.SECONDS);
        return sign(TokenType.SESSION, bootstrap.workspaceId(), bootstrap.user(), now, sessionExpiry(start, now), start);
    }

    /**
     * A fresh session token for a session in use, when it is worth renewing: less than half of its idle
     * lifetime is left and its maximum lifetime allows a later expiry. The new token keeps the user,
     * workspace and session start; it expires one idle lifetime from now, or at the session's end.
     *
     * @return empty when the current token is fresh enough or cannot be extended
     */
    public Optional<Minted> renewal(VerifiedToken session) {
        if (session.type() != TokenType.SESSION || session.sessionStart() == null) {
            throw new IllegalArgumentException("only session tokens are renewed");
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        if (Duration.between(now, session.expiresAt()).compareTo(sessionTtl.dividedBy(2)) >= 0) {
            return Optional.empty();
        }
        Instant expiresAt = sessionExpiry(session.sessionStart(), now);
        if (!expiresAt.isAfter(session.expiresAt())) {
            return Optional.empty();
        }
        return Optional.of(sign(TokenType.SESSION, session.workspaceId(), session.user(), now, expiresAt,
                session.sessionStart()));
    }

    /**
     * Ends sessions before their time: from now on, every session of {@code user} on {@code workspaceId}
     * that began up to now is refused ({@link Reason#REVOKED}). Sessions begun later are not affected;
     * one begun within the same second as the revocation is refused too (session starts are kept to the
     * second), so the user may have to open the IDE once more.
     *
     * @param workspaceId the workspace, or null for every workspace
     * @param user        the user, or null for every user (not both null)
     * @return the instant of the revocation
     */
    public Instant revoke(String workspaceId, String user) {
        if (workspaceId == null && user == null) {
            throw new IllegalArgumentException("name a workspace, a user or both");
        }
        Instant now = clock.instant();
        revocations.revoke(workspaceId, user, now, now.plus(sessionMaxLifetime));
        return now;
    }

    /** True when the session of {@code user} on {@code workspaceId} begun at {@code sessionStart} was revoked. */
    public boolean isRevoked(String workspaceId, String user, Instant sessionStart) {
        Instant revokedAt = revocations.revokedAt(workspaceId, user);
        return revokedAt != null && !sessionStart.isAfter(revokedAt);
    }

    private VerifiedToken notRevoked(VerifiedToken session) throws TokenRejectedException {
        boolean revoked;
        try {
            revoked = isRevoked(session.workspaceId(), session.user(), session.sessionStart());
        } catch (RuntimeException e) {
            // A shared store that cannot answer (it logs the outage once): refuse rather than let a revoked
            // session through, unless the operator chose to keep serving sessions while it is down.
            if (serveWhileRevocationsUnknown && session.type() == TokenType.SESSION) {
                LOG.debug("session of {} on workspace {} served unchecked: the revocation store failed: {}",
                        session.user(), session.workspaceId(), e.toString());
                return session;
            }
            LOG.debug("{} of {} on workspace {} refused: the revocation store failed: {}", session.type(),
                    session.user(), session.workspaceId(), e.toString());
            throw new TokenRejectedException(Reason.REVOCATION_UNKNOWN);
        }
        if (revoked) {
            throw new TokenRejectedException(Reason.REVOKED);
        }
        return session;
    }

    /** True when a session token verified earlier is still valid now, for {@code workspaceId}. */
    private boolean stillValid(VerifiedToken known, String workspaceId) {
        Instant now = clock.instant();
        return known.workspaceId().equals(workspaceId)
                && now.isBefore(known.expiresAt())
                && now.isBefore(known.sessionStart().plus(sessionMaxLifetime));
    }

    private void remember(String token, VerifiedToken verified) {
        if (verifiedSessions.size() >= VERIFIED_SESSIONS_CAPACITY) {
            verifiedSessions.clear();
        }
        verifiedSessions.put(token, verified);
    }

    private Instant sessionExpiry(Instant sessionStart, Instant now) {
        Instant idle = now.plus(sessionTtl);
        Instant end = sessionStart.plus(sessionMaxLifetime);
        return idle.isBefore(end) ? idle : end;
    }

    private Minted sign(TokenType type, String workspaceId, String user, Instant now, Instant expiresAt,
                        Instant sessionStart) {
        TokenKeys.Key key = keys.active();
        JWTCreator.Builder builder = JWT.create()
                .withKeyId(key.id())
                .withIssuer(ISSUER)
                .withAudience(workspaceId)
                .withSubject(user)
                .withClaim(TYPE_CLAIM, type.claim())
                .withJWTId(UUID.randomUUID().toString())
                .withIssuedAt(now)
                .withExpiresAt(expiresAt);
        if (sessionStart != null) {
            builder.withClaim(SESSION_START_CLAIM, sessionStart);
        }
        return new Minted(builder.sign(key.algorithm()), expiresAt);
    }

    private static Duration positive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive");
        }
        return d;
    }

    /**
     * A freshly signed token.
     *
     * @param token     the compact JWT; a secret, never log it
     * @param expiresAt its expiry
     */
    public record Minted(String token, Instant expiresAt) {
        @Override
        public String toString() {
            return "Minted[token=<hidden>, expiresAt=" + expiresAt + "]";
        }
    }
}

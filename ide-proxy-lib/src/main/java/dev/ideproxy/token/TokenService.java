package dev.ideproxy.token;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.AlgorithmMismatchException;
import com.auth0.jwt.exceptions.IncorrectClaimException;
import com.auth0.jwt.exceptions.JWTDecodeException;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.exceptions.MissingClaimException;
import com.auth0.jwt.exceptions.SignatureVerificationException;
import com.auth0.jwt.exceptions.TokenExpiredException;
import com.auth0.jwt.interfaces.DecodedJWT;
import dev.ideproxy.token.TokenRejectedException.Reason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * Mints and verifies the tokens ide-proxy issues itself: bootstrap tokens (in the bootstrap URL) and
 * session tokens (in the session cookie). Both are HS256 JWTs whose audience is the workspace id.
 *
 * <p>Thread-safe once built.
 */
public final class TokenService {
    /** Issuer claim of every token ide-proxy signs. */
    public static final String ISSUER = "ide-proxy";
    static final String TYPE_CLAIM = "typ";

    private final Algorithm algorithm;
    private final Duration bootstrapTtl;
    private final Duration sessionTtl;
    private final Clock clock;

    /**
     * @param secret       HS256 key, at least 32 bytes (checked by the configuration)
     * @param bootstrapTtl lifetime of bootstrap tokens
     * @param sessionTtl   lifetime of session tokens
     * @param clock        time source; tests pass a fixed clock
     */
    public TokenService(byte[] secret, Duration bootstrapTtl, Duration sessionTtl, Clock clock) {
        this.algorithm = Algorithm.HMAC256(Objects.requireNonNull(secret, "secret"));
        this.bootstrapTtl = Objects.requireNonNull(bootstrapTtl, "bootstrapTtl");
        this.sessionTtl = Objects.requireNonNull(sessionTtl, "sessionTtl");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public Duration ttl(TokenType type) {
        return type == TokenType.BOOTSTRAP ? bootstrapTtl : sessionTtl;
    }

    /** Signs a new token of {@code type} for {@code user} on {@code workspaceId}. */
    public Minted mint(TokenType type, String workspaceId, String user) {
        Instant now = clock.instant();
        Instant expiresAt = now.plus(ttl(type));
        String token = JWT.create()
                .withIssuer(ISSUER)
                .withAudience(workspaceId)
                .withSubject(user)
                .withClaim(TYPE_CLAIM, type.claim())
                .withJWTId(UUID.randomUUID().toString())
                .withIssuedAt(now)
                .withExpiresAt(expiresAt)
                .sign(algorithm);
        return new Minted(token, expiresAt);
    }

    /**
     * Verifies signature, issuer, expiry, type and that the token is for {@code workspaceId}.
     *
     * @throws TokenRejectedException with the reason, never carrying the token itself
     */
    public VerifiedToken verify(TokenType type, String workspaceId, String token) throws TokenRejectedException {
        if (token == null || token.isEmpty()) {
            throw new TokenRejectedException(Reason.MISSING);
        }
        JWTVerifier verifier = ((JWTVerifier.BaseVerification) JWT.require(algorithm)
                .withIssuer(ISSUER)
                .withClaimPresence("exp")
                .withClaimPresence("sub")
                .withClaimPresence("jti")
                .withClaim(TYPE_CLAIM, type.claim())
                .withAudience(workspaceId))
                .build(clock);
        try {
            DecodedJWT jwt = verifier.verify(token);
            return new VerifiedToken(type, workspaceId, jwt.getSubject(), jwt.getId(), jwt.getExpiresAtAsInstant());
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
        } catch (JWTVerificationException e) {
            throw new TokenRejectedException(Reason.MALFORMED);
        }
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

package dev.ideproxy.access;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import dev.ideproxy.internal.token.ClockedVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.exceptions.TokenExpiredException;
import com.auth0.jwt.interfaces.Claim;
import com.auth0.jwt.interfaces.DecodedJWT;
import com.auth0.jwt.interfaces.Verification;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.util.List;
import java.util.Objects;

/**
 * Accepts a bearer JWT issued by the host application ({@code Authorization: Bearer ...}), verified
 * with a configured key. A claim (by default {@code workspaces}) lists the workspace ids it grants,
 * as a JSON array of strings or one space-separated string. A token whose admin claim (by default
 * {@value #DEFAULT_ADMIN_CLAIM}) is the boolean {@code true} may use the administrative endpoints
 * ({@link #checkAdmin}). Thread-safe.
 */
public final class BearerJwtAccessPolicy implements AccessPolicy {
    private static final String BEARER = "bearer ";
    /** The claim that grants the administrative endpoints, unless given otherwise. */
    public static final String DEFAULT_ADMIN_CLAIM = "ide-proxy-admin";

    private final JWTVerifier verifier;
    private final String workspacesClaim;
    private final String adminClaim;

    /**
     * @param algorithm       verification algorithm with its key (HS256 secret or RS256 public key)
     * @param workspacesClaim the claim listing granted workspace ids
     * @param issuer          required issuer, or null
     * @param audience        required audience, or null
     * @param clock           time source
     */
    public BearerJwtAccessPolicy(Algorithm algorithm, String workspacesClaim, String issuer, String audience, Clock clock) {
        this(algorithm, workspacesClaim, DEFAULT_ADMIN_CLAIM, issuer, audience, clock);
    }

    /**
     * @param algorithm       verification algorithm with its key (HS256 secret or RS256 public key)
     * @param workspacesClaim the claim listing granted workspace ids
     * @param adminClaim      the claim that, when {@code true}, grants the administrative endpoints
     * @param issuer          required issuer, or null
     * @param audience        required audience, or null
     * @param clock           time source
     */
    public BearerJwtAccessPolicy(Algorithm algorithm, String workspacesClaim, String adminClaim, String issuer,
                                 String audience, Clock clock) {
        Verification v = JWT.require(Objects.requireNonNull(algorithm, "algorithm")).withClaimPresence("exp");
        if (issuer != null) {
            v = v.withIssuer(issuer);
        }
        if (audience != null) {
            v = v.withAudience(audience);
        }
        this.verifier = ClockedVerifier.build(v, Objects.requireNonNull(clock, "clock"));
        this.workspacesClaim = Objects.requireNonNull(workspacesClaim, "workspacesClaim");
        this.adminClaim = Objects.requireNonNull(adminClaim, "adminClaim");
    }

    @Override
    public AccessDecision check(HttpServletRequest request, String workspaceId) {
        Verified verified = verify(request);
        if (verified.refusal() != null) {
            return verified.refusal();
        }
        DecodedJWT jwt = verified.jwt();
        return grants(jwt.getClaim(workspacesClaim), workspaceId)
                ? AccessDecision.allow(jwt.getSubject())
                : AccessDecision.forbidden(jwt.getSubject(), "this token does not grant workspace " + workspaceId);
    }

    /** Allows a verified token whose admin claim is the boolean {@code true}. */
    @Override
    public AccessDecision checkAdmin(HttpServletRequest request) {
        Verified verified = verify(request);
        if (verified.refusal() != null) {
            return verified.refusal();
        }
        DecodedJWT jwt = verified.jwt();
        Claim admin = jwt.getClaim(adminClaim);
        return admin != null && Boolean.TRUE.equals(admin.asBoolean())
                ? AccessDecision.allow(jwt.getSubject())
                : AccessDecision.forbidden(jwt.getSubject(), "this token grants no administrative access");
    }

    /** A verified token with a subject, or why not. */
    private record Verified(DecodedJWT jwt, AccessDecision refusal) {
    }

    private Verified verify(HttpServletRequest request) {
        String header = request.getHeader("Authorization");
        if (header == null || header.length() <= BEARER.length()
                || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return new Verified(null, AccessDecision.unauthenticated("a bearer token is required"));
        }
        DecodedJWT jwt;
        try {
            jwt = verifier.verify(header.substring(BEARER.length()).trim());
        } catch (TokenExpiredException e) {
            return new Verified(null, AccessDecision.unauthenticated("the bearer token has expired"));
        } catch (JWTVerificationException e) {
            return new Verified(null, AccessDecision.unauthenticated("the bearer token is invalid"));
        }
        String user = jwt.getSubject();
        if (user == null || user.isEmpty()) {
            return new Verified(null, AccessDecision.unauthenticated("the bearer token names no subject"));
        }
        return new Verified(jwt, null);
    }

    private static boolean grants(Claim claim, String workspaceId) {
        if (claim == null || claim.isMissing() || claim.isNull()) {
            return false;
        }
        List<String> list = claim.asList(String.class);
        if (list != null) {
            return list.contains(workspaceId);
        }
        String text = claim.asString();
        return text != null && List.of(text.trim().split("\\s+")).contains(workspaceId);
    }
}

package dev.ideproxy.testing;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** The host application's side in tests: it issues the bearer JWTs the mint endpoint accepts. */
public final class Portal {
    /** HS256 secret the test portal signs bearer tokens with. */
    public static final String BEARER_SECRET = "portal-secret-for-tests-0123456789abcdef";
    /** HS256 secret ide-proxy signs its own tokens with in tests. */
    public static final String PROXY_SECRET = "proxy-secret-for-tests-0123456789abcdefgh";

    private Portal() {
    }

    /** A bearer token for {@code user} granting {@code workspaces}, valid for 5 minutes. */
    public static String bearer(String user, String... workspaces) {
        return JWT.create()
                .withSubject(user)
                .withArrayClaim("workspaces", workspaces)
                .withExpiresAt(Instant.now().plusSeconds(300))
                .sign(Algorithm.HMAC256(BEARER_SECRET.getBytes(StandardCharsets.UTF_8)));
    }
}

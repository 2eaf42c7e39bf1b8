package dev.ideproxy.activity;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Portal;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

/**
 * Bearer tokens of the test portal valid for a month, so that tests may move ide-proxy's clock by
 * hours; and a session opened with one.
 */
final class Grants {
    private Grants() {
    }

    /** A token for {@code user} granting {@code workspaces}. */
    static String bearer(String user, String... workspaces) {
        return "Bearer " + sign(JWT.create().withSubject(user).withArrayClaim("workspaces", workspaces));
    }

    /** A token for {@code user} with the admin claim set to {@code admin} (and no workspace). */
    static String admin(String user, Object admin) {
        JWTCreator.Builder b = JWT.create().withSubject(user);
        if (admin instanceof Boolean flag) {
            b.withClaim("ide-proxy-admin", flag);
        } else {
            b.withClaim("ide-proxy-admin", String.valueOf(admin));
        }
        return "Bearer " + sign(b);
    }

    private static String sign(JWTCreator.Builder b) {
        return b.withExpiresAt(Instant.now().plus(Duration.ofDays(30)))
                .sign(Algorithm.HMAC256(Portal.BEARER_SECRET.getBytes(StandardCharsets.UTF_8)));
    }

    /** Mints with a month-long bearer token, bootstraps and returns the session cookie's {@code name=value}. */
    static String session(Browser browser, String workspace, String user) throws Exception {
        HttpResponse<String> minted = browser.mint(workspace, bearer(user, workspace));
        if (minted.statusCode() != 200) {
            throw new AssertionError("mint: " + minted.statusCode() + " " + minted.body());
        }
        String url = minted.body().replaceAll("(?s).*\"bootstrapUrl\":\"([^\"]+)\".*", "$1");
        HttpResponse<String> bootstrap = browser.getPath(url, null);
        if (bootstrap.statusCode() != 303) {
            throw new AssertionError("bootstrap: " + bootstrap.statusCode() + " " + bootstrap.body());
        }
        String setCookie = bootstrap.headers().firstValue("Set-Cookie").orElseThrow();
        return setCookie.substring(0, setCookie.indexOf(';'));
    }
}

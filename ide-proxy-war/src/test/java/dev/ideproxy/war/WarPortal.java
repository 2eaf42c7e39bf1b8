package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The portal's side of the flow for the WAR's tests: its bearer JWT, the mint, then the bootstrap. */
final class WarPortal {
    private static final Pattern BOOTSTRAP_URL = Pattern.compile("\"bootstrapUrl\":\"([^\"]+)\"");

    private WarPortal() {
    }

    /** A bearer JWT for {@code user} granting {@code workspace}, signed with the portal's HS256 secret, valid 60 s. */
    static String bearer(String portalSecret, String user, String workspace) {
        return JWT.create().withSubject(user).withArrayClaim("workspaces", new String[] {workspace})
                .withExpiresAt(Instant.now().plusSeconds(60)).sign(Algorithm.HMAC256(portalSecret));
    }

    /**
     * Mints at {@code mint} ({@code .../api/dev/{id}/ide-token}) with {@code bearer}, then follows the
     * bootstrap link (relative to the proxy's origin); returns the session cookie's {@code name=value}.
     */
    static String session(HttpClient http, URI mint, String bearer) throws Exception {
        HttpResponse<String> minted = http.send(HttpRequest.newBuilder(mint)
                .header("Authorization", "Bearer " + bearer).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, minted.statusCode(), minted.body());
        Matcher m = BOOTSTRAP_URL.matcher(minted.body());
        assertTrue(m.find(), minted.body());
        HttpResponse<String> boot = http.send(HttpRequest.newBuilder(mint.resolve(m.group(1))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(303, boot.statusCode(), boot.body());
        String setCookie = boot.headers().firstValue("Set-Cookie").orElseThrow();
        return setCookie.substring(0, setCookie.indexOf(';'));
    }
}

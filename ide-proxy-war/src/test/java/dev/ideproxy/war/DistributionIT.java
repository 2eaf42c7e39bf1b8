package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The WAR, unmodified, run with {@code java -jar} and in the real Tomcat 10.1, Tomcat 11 and Jetty 12
 * distributions, installed, configured and hardened with the blocks of docs/deployment.md as written
 * ({@link Distribution#startAsDocumented}): the whole flow, HTTP and WebSocket, against real upstreams.
 */
class DistributionIT {
    static final String SECRET = "distribution-test-secret-0123456789abcdef";
    static final String PORTAL_SECRET = "distribution-portal-secret-0123456789abcdef";

    private String bearerFor(String workspace) {
        return WarPortal.bearer(PORTAL_SECRET, "alice", workspace);
    }

    /** Mint and bootstrap for {@code workspace}; returns the session cookie's {@code name=value}. */
    private String session(Distribution.Running container, String workspace, String bearer) throws Exception {
        return WarPortal.session(http, container.uri("/api/dev/" + workspace + "/ide-token"), bearer);
    }

    @TempDir
    Path work;

    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @ParameterizedTest
    @EnumSource(Distribution.class)
    void servesTheFlowInTheRealContainer(Distribution distribution) throws Exception {
        try (TestUpstream upstream = new TestUpstream();
             TestWebSocketUpstream sockets = new TestWebSocketUpstream();
             Distribution.Running container = distribution == Distribution.STANDALONE
                     ? distribution.start(StandaloneWarIT.WAR, "/ide", Map.of(
                             "ide-proxy.token.secret", SECRET,
                             "ide-proxy.auth.jwt.hs256-secret", PORTAL_SECRET,
                             "ide-proxy.targets", "w1=" + upstream.uri() + ",ws1=" + sockets.uri()), work)
                     // Tomcat and Jetty as docs/deployment.md shows them; the targets through the environment.
                     : distribution.startAsDocumented(StandaloneWarIT.WAR, SECRET, PORTAL_SECRET,
                             Map.of("IDE_PROXY_TARGETS", "w1=" + upstream.uri() + ",ws1=" + sockets.uri()), work)) {
            String bearer = JWT.create().withSubject("alice").withArrayClaim("workspaces", new String[] {"w1"})
                    .withExpiresAt(Instant.now().plusSeconds(60)).sign(Algorithm.HMAC256(PORTAL_SECRET));
            HttpResponse<String> minted = http.send(HttpRequest.newBuilder(container.uri("/api/dev/w1/ide-token"))
                    .header("Authorization", "Bearer " + bearer).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, minted.statusCode(), minted.body());
            Matcher m = Pattern.compile("\"bootstrapUrl\":\"(/ide/api/dev/w1/ide\\?token=[^\"]+)\"").matcher(minted.body());
            assertTrue(m.find(), minted.body());

            HttpResponse<String> boot = http.send(HttpRequest.newBuilder(container.uri(m.group(1).substring("/ide".length())))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(303, boot.statusCode(), boot.body());
            assertEquals("/ide/__ide/w1/", boot.headers().firstValue("Location").orElse(null));
            String setCookie = boot.headers().firstValue("Set-Cookie").orElseThrow();
            assertTrue(setCookie.contains("Path=/ide/__ide/w1/") && setCookie.contains("HttpOnly"), setCookie);
            String cookie = setCookie.substring(0, setCookie.indexOf(';'));

            HttpResponse<String> page = http.send(HttpRequest.newBuilder(container.uri("/__ide/w1/deep/path?x=1"))
                    .header("Cookie", cookie).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode(), page.body());
            assertEquals("workspace says hi to " + container.hostHeader() + " at /deep/path", page.body());

            // WebSocket: a cookie for ws1, then text and a 1 MiB binary message (far above the containers' defaults).
            String wsCookie = session(container, "ws1", bearerFor("ws1"));
            WholeMessages received = new WholeMessages();
            WebSocket socket = http.newWebSocketBuilder().header("Cookie", wsCookie)
                    .buildAsync(URI.create("ws://" + container.hostHeader() + "/ide/__ide/ws1/socket?x=1"), received)
                    .get(20, TimeUnit.SECONDS);
            socket.sendText("hello", true).get(10, TimeUnit.SECONDS);
            assertEquals("echo:/socket:hello", received.nextText(Duration.ofSeconds(20)));
            byte[] big = new byte[1 << 20];
            new java.util.Random(7).nextBytes(big);
            socket.sendBinary(ByteBuffer.wrap(big), true).get(20, TimeUnit.SECONDS);
            Object echoed = received.next(Duration.ofSeconds(30));
            assertTrue(echoed instanceof byte[] b && java.util.Arrays.equals(big, b), "1 MiB binary echoed intact");
            socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(10, TimeUnit.SECONDS);
            // Which relay carried it: bytes where ide-proxy can take the connection over; on Jetty's
            // distribution its server classes are hidden from web applications, so messages.
            String relay = distribution == Distribution.JETTY_12
                    ? "relayed as messages on jetty" : "relayed as bytes (passthrough)";
            assertTrue(container.output.stream().anyMatch(l -> l.contains(relay)), "the log names the relay: " + relay);

            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(container.uri("/__ide/w1/"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, refused.statusCode());
            String session = cookie.substring(cookie.indexOf('=') + 1);
            assertTrue(container.output.stream().noneMatch(l -> l.contains(SECRET) || l.contains(PORTAL_SECRET)
                    || l.contains(session)), "a secret reached the container's log");
            if (container.logs != null) {
                try (java.util.stream.Stream<Path> logs = java.nio.file.Files.walk(container.logs)) {
                    for (Path log : logs.filter(java.nio.file.Files::isRegularFile).toList()) {
                        String text = java.nio.file.Files.readString(log, java.nio.charset.StandardCharsets.ISO_8859_1);
                        assertTrue(!text.contains(SECRET) && !text.contains(PORTAL_SECRET) && !text.contains(session),
                                "a secret reached " + log);
                    }
                }
            }
        }
    }
}

package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.ideproxy.redis.RedisServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAR with {@code ide-proxy.store.redis-uri}, no code: two nodes of the unmodified WAR (java -jar,
 * configured by environment variables, and the real Tomcat 11, configured by context parameters)
 * share one password-protected Redis; a bad password stops the standalone start with one line; and
 * undeploying the WAR from Tomcat leaves no thread behind.
 */
class RedisWarIT {
    static final String SECRET = "redis-war-test-secret-0123456789abcdef";
    static final String PORTAL_SECRET = "redis-war-portal-secret-0123456789abcdef";
    static final String REDIS_PASSWORD = "redis-war-password-0123456789";

    @TempDir
    Path work;

    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void twoNodesOfTheWarShareOneRedisAndUndeployingLeavesNoThread() throws Exception {
        try (RedisServer redis = RedisServer.start(REDIS_PASSWORD, List.of());
             TestUpstream upstream = new TestUpstream()) {
            Map<String, String> configuration = Map.of(
                    "ide-proxy.token.secret", SECRET,
                    "ide-proxy.auth.jwt.hs256-secret", PORTAL_SECRET,
                    "ide-proxy.targets", "w1=" + upstream.uri(),
                    "ide-proxy.store.redis-uri", redis.uri(),
                    "ide-proxy.activity.interval", "200ms");
            try (Distribution.Running one = Distribution.STANDALONE.start(StandaloneWarIT.WAR, "/ide", configuration, work);
                 Distribution.Running two = Distribution.TOMCAT_11.start(StandaloneWarIT.WAR, "/ide", configuration, work)) {
                String link = mint(one);
                assertEquals(303, bootstrap(one, link).statusCode());
                HttpResponse<String> again = bootstrap(two, link);
                assertEquals(401, again.statusCode(), "the other node knows the link was used: " + again.body());

                String cookie = cookie(bootstrap(two, mint(two)));
                assertEquals(200, tunnel(one, cookie).statusCode(), "a cookie of node 2 works on node 1");
                HttpResponse<String> revoked = http.send(HttpRequest.newBuilder(one.uri("/api/dev/w1/revoke?user=alice"))
                        .header("Authorization", "Bearer " + bearer()).POST(HttpRequest.BodyPublishers.noBody())
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, revoked.statusCode(), revoked.body());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                int status = tunnel(two, cookie).statusCode();
                while (status != 401 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                    status = tunnel(two, cookie).statusCode();
                }
                assertEquals(401, status, "revoked on node 1, refused on node 2");
                assertTrue(redis.admin().get("ide-proxy:revoked:w1:alice") != null, "the revocation is in Redis");

                // Both ready; node 1's activity (the tunnel request above) is shared with node 2 through Redis.
                for (Distribution.Running node : List.of(one, two)) {
                    HttpResponse<String> ready = http.send(HttpRequest.newBuilder(node.uri("/api/health/ready")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, ready.statusCode(), ready.body());
                }
                HttpRequest activityOnTwo = HttpRequest.newBuilder(two.uri("/api/dev/w1/activity"))
                        .header("Authorization", "Bearer " + bearer()).build();
                HttpResponse<String> activity = http.send(activityOnTwo, HttpResponse.BodyHandlers.ofString());
                long shared = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (activity.body().contains("\"lastActivity\":null") && System.nanoTime() < shared) {
                    Thread.sleep(100); // node 1 writes its activity every 200 ms here
                    activity = http.send(activityOnTwo, HttpResponse.BodyHandlers.ofString());
                }
                assertEquals(200, activity.statusCode(), activity.body());
                assertTrue(activity.body().contains("\"lastActivity\":\"20"), "known to node 2: " + activity.body());
                assertTrue(redis.admin().zscore("ide-proxy:activity", "w1") != null, "the activity is in Redis");

                // Undeploy from Tomcat (remove its context file): Tomcat reports any thread the WAR left running.
                int mark = two.output.size();
                Files.delete(work.resolve("tomcat_11-" + two.base.getPort()).resolve("conf/Catalina/localhost/ide.xml"));
                long undeployed = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (two.output.stream().skip(mark).noneMatch(l -> l.contains("Undeploying") || l.contains("undeploy"))
                        && System.nanoTime() < undeployed) {
                    Thread.sleep(200);
                }
                Thread.sleep(2_000); // the leak report follows the undeploy line
                List<String> after = new ArrayList<>(two.output.subList(mark, two.output.size()));
                assertTrue(after.stream().anyMatch(l -> l.contains("ndeploy")), "Tomcat did not undeploy: " + after);
                assertTrue(after.stream().anyMatch(l -> l.contains("Redis stores closed")), "stores not closed: " + after);
                assertTrue(after.stream().noneMatch(l -> l.contains("appears to have started a thread")),
                        "threads left behind:\n" + String.join("\n", after));

                List<String> all = new ArrayList<>(one.output);
                all.addAll(two.output);
                assertFalse(all.stream().anyMatch(l -> l.contains(REDIS_PASSWORD)), "the Redis password in a log line");
            }
        }
    }

    @Test
    void aWrongRedisPasswordStopsTheStandaloneStartWithOneLine() throws Exception {
        try (RedisServer redis = RedisServer.start(REDIS_PASSWORD, List.of())) {
            String wrong = "not-the-password-0123456789";
            Process process = StandaloneWarIT.launch(Map.of(
                    "IDE_PROXY_TOKEN_SECRET", SECRET,
                    "IDE_PROXY_AUTH_JWT_HS256_SECRET", PORTAL_SECRET,
                    "IDE_PROXY_TARGETS", "w1=http://127.0.0.1:1",
                    "IDE_PROXY_STORE_REDIS_URI", "redis://" + wrong + "@127.0.0.1:" + redis.port(),
                    "IDE_PROXY_STANDALONE_PORT", Integer.toString(Distribution.freePort())));
            List<String> output = new ProcessLog(process, "standalone-redis").lines();
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the process should exit");
            Thread.sleep(200);
            assertEquals(2, process.exitValue(), String.join("\n", output));
            List<String> errors = output.stream().filter(l -> l.startsWith("ide-proxy cannot start:")).toList();
            assertEquals(1, errors.size(), String.join("\n", output));
            assertTrue(errors.get(0).contains("ide-proxy.store.redis-uri") && errors.get(0).contains("refused the credentials"),
                    errors.get(0));
            assertTrue(output.stream().noneMatch(l -> l.contains(wrong)), "the password was printed");
            assertTrue(output.stream().noneMatch(l -> l.contains("\tat ")), "no stack trace:\n" + String.join("\n", output));
        }
    }

    private String bearer() {
        return JWT.create().withSubject("alice").withArrayClaim("workspaces", new String[] {"w1"})
                .withExpiresAt(Instant.now().plusSeconds(60)).sign(Algorithm.HMAC256(PORTAL_SECRET));
    }

    private String mint(Distribution.Running node) throws Exception {
        HttpResponse<String> minted = http.send(HttpRequest.newBuilder(node.uri("/api/dev/w1/ide-token"))
                .header("Authorization", "Bearer " + bearer()).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, minted.statusCode(), minted.body());
        Matcher m = Pattern.compile("\"bootstrapUrl\":\"/ide(/api/dev/w1/ide\\?token=[^\"]+)\"").matcher(minted.body());
        assertTrue(m.find(), minted.body());
        return m.group(1);
    }

    private HttpResponse<String> bootstrap(Distribution.Running node, String link) throws Exception {
        return http.send(HttpRequest.newBuilder(node.uri(link)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> tunnel(Distribution.Running node, String cookie) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(node.base + "/__ide/w1/")).header("Cookie", cookie).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String cookie(HttpResponse<String> boot) {
        assertEquals(303, boot.statusCode(), boot.body());
        String setCookie = boot.headers().firstValue("Set-Cookie").orElseThrow();
        return setCookie.substring(0, setCookie.indexOf(';'));
    }
}

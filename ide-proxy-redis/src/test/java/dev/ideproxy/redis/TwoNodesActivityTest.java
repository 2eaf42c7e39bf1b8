package dev.ideproxy.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.MutableClock;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Workspace activity across two nodes (Jetty and Tomcat) sharing one real Redis, each node with a
 * clock of its own that the test moves: either node answers for both, the latest activity over the
 * nodes wins (an older one recorded later does not replace it), live WebSockets are summed over the
 * nodes, and the idle listing of one node includes what only the other served.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TwoNodesActivityTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Duration WAIT = Duration.ofSeconds(20);

    @Test
    void theLatestActivityOverTheNodesWinsAndEitherNodeAnswersForBoth() throws Exception {
        Instant start = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        MutableClock clock1 = new MutableClock(start);
        MutableClock clock2 = new MutableClock(start);
        WebSocketClient client = new WebSocketClient();
        client.start();
        try (RedisServer redis = RedisServer.start();
             Upstream http = new Upstream("H");
             WebSocketUpstream ws = new WebSocketUpstream("W");
             RedisStores stores1 = RedisStores.builder(redis.uri()).clock(clock1).connect();
             RedisStores stores2 = RedisStores.builder(redis.uri()).clock(clock2).connect();
             Container.Running node1 = Container.JETTY.start("", proxy(stores1, clock1, http, ws));
             Container.Running node2 = Container.TOMCAT.start("", proxy(stores2, clock2, http, ws))) {
            String aliceOn1 = new Browser(node1).session("a", "alice");
            String bobOn2 = new Browser(node2).session("a", "bob");
            String carolOn1 = new Browser(node1).session("a", "carol");
            String onB = new Browser(node1).session("b", "dave");
            String onW = new Browser(node1).session("w", "erin");

            // Node 1 sees a used at +1 min, node 2 at +2 min: both answer +2 min, by bob.
            clock1.set(start.plus(Duration.ofMinutes(1)));
            assertEquals(200, new Browser(node1).getPath("/__ide/a/x", aliceOn1).statusCode());
            clock2.set(start.plus(Duration.ofMinutes(2)));
            assertEquals(200, new Browser(node2).getPath("/__ide/a/x", bobOn2).statusCode());
            Instant latest = clock2.instant();
            awaitActivity(node1, "a", latest, "bob");
            awaitActivity(node2, "a", latest, "bob");

            // Node 1 records an older use after that: it does not replace the newer one, on either node.
            clock1.set(start.plus(Duration.ofSeconds(90)));
            assertEquals(200, new Browser(node1).getPath("/__ide/a/x", carolOn1).statusCode());
            Thread.sleep(1_000); // five intervals: node 1 has written it
            assertActivity(node1, "a", latest, "bob");
            assertActivity(node2, "a", latest, "bob");

            // A newer use on node 1 wins everywhere.
            clock1.set(start.plus(Duration.ofMinutes(3)));
            assertEquals(200, new Browser(node1).getPath("/__ide/a/y", aliceOn1).statusCode());
            awaitActivity(node2, "a", clock1.instant(), "alice");

            // Live WebSockets of both nodes are summed (a node's count is fresh by the reader's clock: in step here).
            clock2.set(clock1.instant());
            BrowserSocket on1 = BrowserSocket.open(client, node1, "/__ide/w/sink", onW);
            BrowserSocket on2 = BrowserSocket.open(client, node2, "/__ide/w/sink", onW);
            awaitLive(node1, "w", 2);
            awaitLive(node2, "w", 2);
            on1.session().close();
            awaitLive(node2, "w", 1);
            on2.session().close();
            awaitLive(node1, "w", 0);

            // b is used on node 1 only; node 2, 40 minutes later, lists it as idle.
            clock1.set(start.plus(Duration.ofMinutes(5)));
            assertEquals(200, new Browser(node1).getPath("/__ide/b/x", onB).statusCode());
            Instant usedB = clock1.instant();
            Thread.sleep(1_000);
            clock2.set(usedB.plus(Duration.ofMinutes(40)));
            JsonNode listing = json(get(node2, "/api/activity?inactive-since=30m", admin()));
            List<String> idle = new ArrayList<>();
            listing.get("workspaces").forEach(w -> idle.add(w.get("workspace").asText()));
            assertTrue(idle.contains("b"), listing.toString());
            assertTrue(idle.indexOf("a") < idle.indexOf("b"), "oldest first: " + listing);
            JsonNode b = listing.get("workspaces").get(idle.indexOf("b"));
            assertEquals(usedB.toString(), b.get("lastActivity").asText());
            assertEquals(40 * 60, b.get("idleSeconds").asLong());
            assertEquals("dave", b.get("user").asText());
            assertEquals(401, get(node2, "/api/activity", null).statusCode());
            assertEquals(403, get(node2, "/api/activity", bearer("dave", "b")).statusCode());
        } finally {
            client.stop();
        }
    }

    private static IdeProxy proxy(RedisStores stores, MutableClock clock, Upstream http, WebSocketUpstream ws) {
        return IdeProxy.builder(IdeProxyConfig.builder()
                        .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                        .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                        .set(ConfigOption.TARGETS, "a=" + http.uri() + ",b=" + http.uri() + ",w=" + ws.uri())
                        .set(ConfigOption.ACTIVITY_INTERVAL, "200ms")
                        .build())
                .replayStore(stores.replayStore())
                .revocationStore(stores.revocationStore())
                .activityStore(stores.activityStore())
                .clock(clock)
                .build();
    }

    private static void awaitActivity(Container.Running node, String workspace, Instant at, String user) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode activity = activity(node, workspace);
        while (!at.toString().equals(activity.get("lastActivity").asText()) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            activity = activity(node, workspace);
        }
        assertActivity(node, workspace, at, user);
    }

    private static void assertActivity(Container.Running node, String workspace, Instant at, String user) throws Exception {
        JsonNode activity = activity(node, workspace);
        assertEquals(at.toString(), activity.get("lastActivity").asText(), node.kind() + ": " + activity);
        assertEquals(user, activity.get("user").asText(), node.kind() + ": " + activity);
    }

    private static void awaitLive(Container.Running node, String workspace, int live) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        JsonNode activity = activity(node, workspace);
        while (activity.get("liveWebSockets").asInt() != live && System.nanoTime() < deadline) {
            Thread.sleep(50);
            activity = activity(node, workspace);
        }
        assertEquals(live, activity.get("liveWebSockets").asInt(), node.kind() + ": " + activity);
    }

    private static JsonNode activity(Container.Running node, String workspace) throws Exception {
        return json(get(node, "/api/dev/" + workspace + "/activity", bearer("portal", workspace)));
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    private static HttpResponse<String> get(Container.Running node, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(node.uri(path)).timeout(Duration.ofSeconds(10)).GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Valid for a month: the nodes' clocks move ahead of the real one. */
    private static String bearer(String user, String workspace) {
        return "Bearer " + JWT.create().withSubject(user).withArrayClaim("workspaces", new String[] {workspace})
                .withExpiresAt(Instant.now().plus(Duration.ofDays(30))).sign(secret());
    }

    private static String admin() {
        return "Bearer " + JWT.create().withSubject("culler").withClaim("ide-proxy-admin", true)
                .withExpiresAt(Instant.now().plus(Duration.ofDays(30))).sign(secret());
    }

    private static Algorithm secret() {
        return Algorithm.HMAC256(Portal.BEARER_SECRET.getBytes(StandardCharsets.UTF_8));
    }
}

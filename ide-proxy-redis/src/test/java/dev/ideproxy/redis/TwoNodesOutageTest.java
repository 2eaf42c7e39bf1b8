package dev.ideproxy.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.Upstream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Redis stopped under two running nodes (Jetty and Tomcat): no link is accepted and a revoke answers
 * 503 (bootstraps, the revoke, and the tunnel for a session it cannot check); Redis started again on the same port: the next bootstrap works on both nodes, without a
 * restart of either.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TwoNodesOutageTest {
    private static final Duration RECOVERY = Duration.ofSeconds(30);

    @Test
    void noLinkIsAcceptedWhileRedisIsDownAndTheNextWorksOnceItIsBack() throws Exception {
        try (RedisServer redis = RedisServer.start();
             Upstream upstream = new Upstream("H");
             RedisStores stores1 = RedisStores.connect(redis.uri(), RedisStores.DEFAULT_COMMAND_TIMEOUT);
             RedisStores stores2 = RedisStores.connect(redis.uri(), RedisStores.DEFAULT_COMMAND_TIMEOUT);
             Container.Running node1 = Container.JETTY.start("", proxy(stores1, upstream));
             Container.Running node2 = Container.TOMCAT.start("", proxy(stores2, upstream))) {
            String cookie = new Browser(node1).session("a", "alice");
            String link1 = new Browser(node1).bootstrapUrl("a", "bob");
            String link2 = new Browser(node2).bootstrapUrl("a", "bob");

            redis.stop();

            for (Container.Running node : new Container.Running[] {node1, node2}) {
                for (String link : new String[] {link1, link2}) {
                    RawHttp.Response refused = TwoNodesTest.get(node, link);
                    assertNotEquals(303, refused.status(), "a link accepted without Redis: " + refused);
                    assertEquals(503, refused.status(), refused.toString());
                    assertTrue(!refused.headers("Retry-After").isEmpty(), refused.toString());
                    assertTrue(refused.headers("Set-Cookie").isEmpty(), refused.toString());
                }
                // A session that cannot be checked against the revocations: "try again", not "signed out".
                HttpResponse<String> tunnel = new Browser(node).getPath("/__ide/a/x", cookie);
                assertEquals(503, tunnel.statusCode(), tunnel.body());
                assertTrue(tunnel.headers().firstValue("Retry-After").isPresent());
                HttpResponse<String> revoke = new Browser(node).http().send(HttpRequest.newBuilder(
                                node.uri("/api/dev/a/revoke?user=alice"))
                        .header("Authorization", "Bearer " + Portal.bearer("portal", "a"))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(503, revoke.statusCode(), revoke.body());
            }

            redis.restart();

            // The links were never marked used: each works once, on either node, without a restart.
            // Each node reconnects on its own schedule: until it has, it still answers 503 (never 303).
            assertEquals(303, awaitRecovered(node2, link1).status(), "node 2 after the outage");
            assertEquals(401, awaitRecovered(node1, link1).status(), "and only once");
            assertEquals(303, awaitRecovered(node1, link2).status(), "node 1 after the outage");
            assertEquals(401, awaitRecovered(node2, link2).status());
            assertEquals(303, new Browser(node1).bootstrap("a", "carol").statusCode(), "a new link");
            // The revocations are read again after the reconnect (503 until then), and alice's are none.
            long deadline = System.nanoTime() + RECOVERY.toNanos();
            HttpResponse<String> after = new Browser(node2).getPath("/__ide/a/x", cookie);
            while (after.statusCode() == 503 && System.nanoTime() < deadline) {
                Thread.sleep(200);
                after = new Browser(node2).getPath("/__ide/a/x", cookie);
            }
            assertEquals(200, after.statusCode(), "alice was never revoked: " + after.body());
        }
    }

    /** The first answer other than the outage's 503 (which must carry nothing else meanwhile). */
    private static RawHttp.Response awaitRecovered(Container.Running node, String link) throws Exception {
        long deadline = System.nanoTime() + RECOVERY.toNanos();
        RawHttp.Response r = TwoNodesTest.get(node, link);
        while (r.status() == 503 && System.nanoTime() < deadline) {
            assertTrue(r.headers("Set-Cookie").isEmpty(), r.toString());
            Thread.sleep(200);
            r = TwoNodesTest.get(node, link);
        }
        return r;
    }

    private static IdeProxy proxy(RedisStores stores, Upstream upstream) {
        return IdeProxy.builder(IdeProxyConfig.builder()
                        .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                        .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                        .set(ConfigOption.TARGETS, "a=" + upstream.uri())
                        .build())
                .replayStore(stores.replayStore())
                .revocationStore(stores.revocationStore())
                .build();
    }
}

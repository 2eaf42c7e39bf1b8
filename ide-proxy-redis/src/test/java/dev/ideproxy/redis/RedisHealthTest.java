package dev.ideproxy.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Readiness with a real Redis under two running nodes (Jetty and Tomcat): ready while Redis answers;
 * within seconds of Redis stopping, 503 naming both stores on both nodes, while liveness stays 200
 * and the activity endpoints answer 503; ready again, without a restart, once Redis is back.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RedisHealthTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void aRedisOutageFlipsReadinessOnEveryNodeAndItComesBack() throws Exception {
        try (RedisServer redis = RedisServer.start();
             Upstream upstream = new Upstream("H");
             RedisStores stores1 = RedisStores.connect(redis.uri(), RedisStores.DEFAULT_COMMAND_TIMEOUT);
             RedisStores stores2 = RedisStores.connect(redis.uri(), RedisStores.DEFAULT_COMMAND_TIMEOUT);
             Container.Running node1 = Container.JETTY.start("", proxy(stores1, upstream));
             Container.Running node2 = Container.TOMCAT.start("", proxy(stores2, upstream))) {
            String cookie = new Browser(node1).session("a", "alice");
            assertEquals(200, new Browser(node1).getPath("/__ide/a/x", cookie).statusCode());
            for (Container.Running node : List.of(node1, node2)) {
                assertEquals(200, get(node, "/api/health/ready", null).statusCode());
                assertTrue(stores1.replayStore().isAvailable() && stores1.revocationStore().isAvailable());
            }

            redis.stop();

            for (Container.Running node : List.of(node1, node2)) {
                HttpResponse<String> unready = await(node, "/api/health/ready", 503);
                JsonNode body = JSON.readTree(unready.body());
                assertEquals("unready", body.get("status").asText());
                List<String> failed = new ArrayList<>();
                body.get("failed").forEach(f -> failed.add(f.asText()));
                assertEquals(List.of("replayStore", "revocationStore"), failed, unready.body());
                assertEquals("ok", body.get("checks").get("draining").asText());
                assertEquals(200, get(node, "/api/health/live", null).statusCode(), "alive all the same");
                assertEquals(503, get(node, "/api/dev/a/activity", "Bearer " + Portal.bearer("portal", "a")).statusCode(),
                        "the activity cannot be read from Redis");
                assertFalse(unready.body().contains(String.valueOf(redis.port())), "no address in the answer");
            }
            assertFalse(stores2.replayStore().isAvailable());
            assertFalse(stores2.revocationStore().isAvailable());

            redis.restart();

            for (Container.Running node : List.of(node1, node2)) {
                HttpResponse<String> ready = await(node, "/api/health/ready", 200);
                assertEquals("ready", JSON.readTree(ready.body()).get("status").asText());
            }
            assertEquals(200, new Browser(node2).getPath("/__ide/a/x", cookie).statusCode(), "serving again");
            assertEquals(200, get(node2, "/api/dev/a/activity", "Bearer " + Portal.bearer("portal", "a")).statusCode());
        }
    }

    private static HttpResponse<String> await(Container.Running node, String path, int status) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        HttpResponse<String> r = get(node, path, null);
        while (r.statusCode() != status && System.nanoTime() < deadline) {
            Thread.sleep(50);
            r = get(node, path, null);
        }
        assertEquals(status, r.statusCode(), r.body());
        return r;
    }

    private static HttpResponse<String> get(Container.Running node, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(node.uri(path)).timeout(Duration.ofSeconds(10)).GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static IdeProxy proxy(RedisStores stores, Upstream upstream) {
        return IdeProxy.builder(IdeProxyConfig.builder()
                        .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                        .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                        .set(ConfigOption.TARGETS, "a=" + upstream.uri())
                        .build())
                .replayStore(stores.replayStore())
                .revocationStore(stores.revocationStore())
                .activityStore(stores.activityStore())
                .build();
    }
}

package dev.ideproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.token.InMemoryReplayStore;
import dev.ideproxy.token.InMemoryRevocationStore;
import dev.ideproxy.token.ReplayStore;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import dev.ideproxy.token.RevocationStore;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@code GET /api/health/live} and {@code /api/health/ready} on both containers: JSON, no-store, no
 * authentication; readiness turns 503 naming the failed check while a store cannot answer or the node
 * drains, and comes back with the store. The outage is a pair of stores switched off by the test (a
 * real server cannot fail on cue here; ide-proxy-redis's {@code RedisHealthTest} stops a real Redis).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HealthTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final SwitchableReplayStore replay = new SwitchableReplayStore();
    private final SwitchableRevocationStore revocations = new SwitchableRevocationStore();
    private Upstream http;
    private Containers servers;

    @BeforeAll
    void start() throws Exception {
        http = new Upstream("H");
        servers = Containers.start("/portal", kind -> IdeProxy.builder(config())
                .replayStore(replay).revocationStore(revocations).build());
    }

    private IdeProxyConfig config() {
        return IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + http.uri())
                .build();
    }

    @AfterEach
    void storesBack() {
        replay.down = false;
        revocations.down = false;
    }

    @AfterAll
    void stop() throws Exception {
        servers.close();
        http.close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void liveAnswersUpWithoutAuthenticationAndUncached(Container kind) throws Exception {
        HttpResponse<String> live = get(kind, "/api/health/live");
        assertEquals(200, live.statusCode(), live.body());
        assertEquals("up", JSON.readTree(live.body()).get("status").asText());
        assertJsonNoStore(live);
        revocations.down = true; // liveness does not depend on the stores
        assertEquals(200, get(kind, "/api/health/live").statusCode());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void readyNamesEveryCheck(Container kind) throws Exception {
        HttpResponse<String> ready = get(kind, "/api/health/ready");
        assertEquals(200, ready.statusCode(), ready.body());
        assertJsonNoStore(ready);
        JsonNode body = JSON.readTree(ready.body());
        assertEquals("ready", body.get("status").asText());
        assertFalse(body.has("failed"));
        for (String check : List.of("configuration", "replayStore", "revocationStore", "draining")) {
            assertEquals("ok", body.get("checks").get(check).asText(), check);
        }
        HttpResponse<String> head = send(kind, "/api/health/ready", "HEAD");
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aRevocationStoreOutageFlipsReadinessAndItComesBack(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String cookie = browser.session("a", "alice");
        revocations.down = true;
        HttpResponse<String> unready = get(kind, "/api/health/ready");
        assertEquals(503, unready.statusCode(), unready.body());
        assertJsonNoStore(unready);
        JsonNode body = JSON.readTree(unready.body());
        assertEquals("unready", body.get("status").asText());
        assertEquals(List.of("revocationStore"), List.of(JSON.treeToValue(body.get("failed"), String[].class)));
        assertEquals("unavailable", body.get("checks").get("revocationStore").asText());
        assertEquals("ok", body.get("checks").get("replayStore").asText());
        // What readiness foretells: the tunnel cannot check sessions meanwhile.
        assertEquals(503, browser.getPath("/portal/__ide/a/x", cookie).statusCode());

        revocations.down = false;
        assertEquals(200, get(kind, "/api/health/ready").statusCode());
        assertEquals(200, browser.getPath("/portal/__ide/a/x", cookie).statusCode());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aReplayStoreOutageFlipsReadinessAndItComesBack(Container kind) throws Exception {
        replay.down = true;
        HttpResponse<String> unready = get(kind, "/api/health/ready");
        assertEquals(503, unready.statusCode(), unready.body());
        JsonNode body = JSON.readTree(unready.body());
        assertEquals(List.of("replayStore"), List.of(JSON.treeToValue(body.get("failed"), String[].class)));
        replay.down = false;
        assertEquals(200, get(kind, "/api/health/ready").statusCode());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aDrainingNodeIsNotReadyButLive(Container kind) throws Exception {
        // A proxy of its own: a drain does not end.
        try (Containers draining = Containers.start("", k -> IdeProxy.builder(config()).build())) {
            HttpResponse<String> before = send(draining.get(kind), "/api/health/ready", "GET");
            assertEquals(200, before.statusCode(), before.body());
            draining.proxy(kind).drainState().begin();
            HttpResponse<String> unready = send(draining.get(kind), "/api/health/ready", "GET");
            assertEquals(503, unready.statusCode(), unready.body());
            JsonNode body = JSON.readTree(unready.body());
            assertEquals(List.of("draining"), List.of(JSON.treeToValue(body.get("failed"), String[].class)));
            assertEquals("draining", body.get("checks").get("draining").asText());
            assertEquals(200, send(draining.get(kind), "/api/health/live", "GET").statusCode());
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void otherMethodsAndPathsAreRefused(Container kind) throws Exception {
        HttpResponse<String> post = send(kind, "/api/health/ready", "POST");
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElseThrow());
        assertEquals(404, get(kind, "/api/health/other").statusCode());
        assertEquals(404, get(kind, "/api/health/").statusCode());
        assertEquals(404, get(kind, "/api/health/ready/x").statusCode());
    }

    private static void assertJsonNoStore(HttpResponse<String> response) {
        assertEquals("no-store", response.headers().firstValue("Cache-Control").orElseThrow());
        assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("application/json"));
    }

    private HttpResponse<String> get(Container kind, String path) throws Exception {
        return send(kind, path, "GET");
    }

    private HttpResponse<String> send(Container kind, String path, String method) throws Exception {
        return send(servers.get(kind), path, method);
    }

    private static HttpResponse<String> send(Container.Running server, String path, String method) throws Exception {
        Browser browser = new Browser(server);
        HttpRequest request = HttpRequest.newBuilder(server.uri(path))
                .timeout(Duration.ofSeconds(10))
                .method(method, HttpRequest.BodyPublishers.noBody())
                .build();
        return browser.http().send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** A replay store that cannot answer while {@link #down} is set, and says so. */
    private static final class SwitchableReplayStore implements ReplayStore {
        private final InMemoryReplayStore delegate = new InMemoryReplayStore(1000, Clock.systemUTC());
        volatile boolean down;

        @Override
        public boolean markUsed(String tokenId, Instant expiresAt) throws ReplayStoreUnavailableException {
            if (down) {
                throw new ReplayStoreUnavailableException("store down");
            }
            return delegate.markUsed(tokenId, expiresAt);
        }

        @Override
        public boolean isAvailable() {
            return !down;
        }
    }

    /** A revocation store that cannot answer while {@link #down} is set, and says so. */
    private static final class SwitchableRevocationStore implements RevocationStore {
        private final InMemoryRevocationStore delegate = new InMemoryRevocationStore(Clock.systemUTC());
        volatile boolean down;

        @Override
        public void revoke(String workspaceId, String user, Instant at, Instant forgetAfter) {
            if (down) {
                throw new IllegalStateException("store down");
            }
            delegate.revoke(workspaceId, user, at, forgetAfter);
        }

        @Override
        public Instant revokedAt(String workspaceId, String user) {
            if (down) {
                throw new IllegalStateException("store down");
            }
            return delegate.revokedAt(workspaceId, user);
        }

        @Override
        public boolean isAvailable() {
            return !down;
        }
    }
}

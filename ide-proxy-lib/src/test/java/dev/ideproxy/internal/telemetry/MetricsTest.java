package dev.ideproxy.internal.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.MutableClock;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RefusingPort;
import dev.ideproxy.testing.Scrape;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import dev.ideproxy.token.InMemoryReplayStore;
import dev.ideproxy.token.InMemoryRevocationStore;
import dev.ideproxy.token.ReplayStore;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import dev.ideproxy.token.RevocationStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Metrics as Prometheus scrapes them, from a {@link PrometheusMeterRegistry} given to the builder, on
 * both containers: each counter moves by exactly the number of requests, bootstraps, mints, messages
 * and bytes the test made, with the tags it made them with; no tag carries a workspace id or a user
 * unless {@code metrics.workspace-tag} is set; store calls are timed and their failures counted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetricsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String REQUESTS = "ide_proxy_tunnel_requests_seconds_count";
    private static final String MINTS = "ide_proxy_mints_total";
    private static final String BOOTSTRAPS = "ide_proxy_bootstraps_total";
    private static final String RELAYED = "ide_proxy_relayed_bytes_total";
    private static final String MESSAGES = "ide_proxy_websocket_messages_total";
    private static final String FAILURES = "ide_proxy_upstream_failures_total";
    private static final String STORE = "ide_proxy_store_calls_seconds_count";

    private Upstream upstream;
    private WebSocketUpstream sockets;
    private RefusingPort refusing;
    private WebSocketClient client;
    /** Default tags; each container's proxy with a registry and stores of its own. */
    private Containers servers;
    private final Map<Container, PrometheusMeterRegistry> registries = new EnumMap<>(Container.class);
    private final Map<Container, Flaky> stores = new EnumMap<>(Container.class);
    /** With metrics.workspace-tag, a clock of their own and a short upstream idle timeout. */
    private Containers tagged;
    private final MutableClock clock = new MutableClock(Instant.now());
    private final Map<Container, PrometheusMeterRegistry> taggedRegistries = new EnumMap<>(Container.class);

    @BeforeAll
    void start() throws Exception {
        upstream = new Upstream("H");
        sockets = new WebSocketUpstream("W");
        refusing = new RefusingPort();
        client = new WebSocketClient();
        client.start();
        servers = Containers.start("", kind -> {
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            Flaky flaky = new Flaky(Clock.systemUTC());
            registries.put(kind, registry);
            stores.put(kind, flaky);
            return IdeProxy.builder(config(false)).meterRegistry(registry)
                    .replayStore(flaky.replay).revocationStore(flaky.revocation).build();
        });
        tagged = Containers.start("", kind -> {
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            taggedRegistries.put(kind, registry);
            return IdeProxy.builder(config(true)).meterRegistry(registry).clock(clock).build();
        });
    }

    private IdeProxyConfig config(boolean workspaceTag) {
        String down = "http://127.0.0.1:" + refusing.port();
        return IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstream.uri() + ",r=" + upstream.uri() + ",s=" + upstream.uri()
                        + ",w=" + sockets.uri() + ",down=" + down + ",wdown=" + down)
                .set(ConfigOption.METRICS_WORKSPACE_TAG, Boolean.toString(workspaceTag))
                .set(ConfigOption.UPSTREAM_IDLE_TIMEOUT, workspaceTag ? "1s" : "120s")
                .build();
    }

    @AfterAll
    void stop() throws Exception {
        client.stop();
        try (Containers first = servers; Containers second = tagged) {
            // both stop, whichever fails
        }
        registries.values().forEach(PrometheusMeterRegistry::close);
        taggedRegistries.values().forEach(PrometheusMeterRegistry::close);
        upstream.close();
        sockets.close();
        refusing.close();
    }

    private Scrape scrape(Container kind) {
        return Scrape.parse(registries.get(kind).scrape());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void httpRequestsMintsAndBootstrapsAreCountedExactly(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        Browser browser = new Browser(server);
        Scrape before = scrape(kind);

        String cookie = browser.session("a", "alice");                 // mint ok, bootstrap ok
        long toBrowser = 0;
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> page = browser.getPath("/__ide/a/page?i=" + i, cookie);
            assertEquals(200, page.statusCode(), page.body());
            toBrowser += page.body().getBytes(StandardCharsets.UTF_8).length;
        }
        byte[] body = new byte[100_000];
        HttpResponse<String> posted = browser.http().send(HttpRequest.newBuilder(
                        URI.create("http://" + server.hostHeader() + "/__ide/a/count"))
                .header("Cookie", cookie).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("100000", posted.body());
        toBrowser += posted.body().length();
        assertEquals(401, browser.getPath("/__ide/a/page", null).statusCode());       // refused: no session
        assertEquals(302, browser.getPath("/__ide/a", cookie).statusCode());          // redirected to /__ide/a/
        String downCookie = browser.session("down", "alice");          // mint ok, bootstrap ok
        assertEquals(502, browser.getPath("/__ide/down/x", downCookie).statusCode()); // upstream refused

        String link = browser.bootstrapUrl("a", "alice");             // mint ok
        assertEquals(303, browser.getPath(link, null).statusCode());  // bootstrap ok
        assertEquals(401, browser.getPath(link, null).statusCode());  // bootstrap replayed
        assertEquals(401, browser.getPath(link.replaceFirst("token=..........", "token=xxxxxxxxxx"), null)
                .statusCode());                                        // bootstrap invalid (malformed)
        assertEquals(401, browser.mint("a", null).statusCode());                                   // unauthenticated
        assertEquals(403, browser.mint("a", "Bearer " + Portal.bearer("alice", "b")).statusCode()); // forbidden
        assertEquals(404, browser.mint("nope", "Bearer " + Portal.bearer("alice", "nope")).statusCode()); // unknown

        // A request is counted when it completes on the server, which may be just after the client has its answer.
        Scrape after = awaitScrape(kind, s -> s.delta(before, REQUESTS) >= 9 && s.delta(before, MINTS) >= 6
                && s.delta(before, BOOTSTRAPS) >= 5);
        assertEquals(5, after.delta(before, REQUESTS, "method", "GET", "status", "2xx", "outcome", "proxied"), after.text());
        assertEquals(1, after.delta(before, REQUESTS, "method", "POST", "status", "2xx", "outcome", "proxied"));
        assertEquals(1, after.delta(before, REQUESTS, "method", "GET", "status", "4xx", "outcome", "refused"));
        assertEquals(1, after.delta(before, REQUESTS, "method", "GET", "status", "3xx", "outcome", "redirected"));
        assertEquals(1, after.delta(before, REQUESTS, "method", "GET", "status", "5xx", "outcome", "upstream_error"));
        assertEquals(9, after.delta(before, REQUESTS), "every tunnel request once, and nothing else");
        assertEquals(1, after.delta(before, FAILURES, "protocol", "http", "kind", "refused"));
        assertEquals(1, after.delta(before, FAILURES));
        assertEquals(toBrowser, after.delta(before, RELAYED, "protocol", "http", "direction", "to_browser"));
        assertEquals(100_000, after.delta(before, RELAYED, "protocol", "http", "direction", "to_upstream"));

        assertEquals(3, after.delta(before, MINTS, "outcome", "ok"));
        assertEquals(1, after.delta(before, MINTS, "outcome", "unauthenticated"));
        assertEquals(1, after.delta(before, MINTS, "outcome", "forbidden"));
        assertEquals(1, after.delta(before, MINTS, "outcome", "unknown_workspace"));
        assertEquals(6, after.delta(before, MINTS));
        assertEquals(3, after.delta(before, BOOTSTRAPS, "outcome", "ok"));
        assertEquals(1, after.delta(before, BOOTSTRAPS, "outcome", "replayed"));
        assertEquals(1, after.delta(before, BOOTSTRAPS, "outcome", "invalid"));
        assertEquals(5, after.delta(before, BOOTSTRAPS));
        // Every bootstrap that verified asked the replay store once: the three opened and the replayed one.
        assertEquals(4, after.delta(before, STORE, "store", "replay", "operation", "mark_used", "outcome", "ok"));
        assertTrue(after.delta(before, STORE, "store", "revocation", "operation", "revoked_at", "outcome", "ok") >= 7,
                "the tunnel asks the revocation store for each authenticated request");
        assertNoWorkspaceOrUser(after, Set.of("a", "down", "nope", "b", "alice"));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void webSocketRelaysMessagesAndBytesAreCountedExactly(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        Browser browser = new Browser(server);
        String cookie = browser.session("w", "walter");
        Scrape before = scrape(kind);

        BrowserSocket socket = BrowserSocket.open(client, server, "/__ide/w/echo", cookie);
        assertEquals(1, awaitScrape(kind, s -> s.delta(before, "ide_proxy_websocket_relays_live") == 1)
                .delta(before, "ide_proxy_websocket_relays_live"), "one live relay");
        long sent = 0;
        long received = 0;
        for (int i = 0; i < 7; i++) {
            String text = "message " + i + " é";
            send(socket, text);
            BrowserSocket.Message echo = socket.nextMessage(WAIT);
            assertNotNull(echo);
            assertEquals("W|" + text, echo.text());
            sent += text.getBytes(StandardCharsets.UTF_8).length;
            received += echo.text().getBytes(StandardCharsets.UTF_8).length;
        }
        for (int i = 0; i < 3; i++) {
            byte[] bytes = new byte[1000 + i];
            Callback.Completable done = new Callback.Completable();
            socket.session().sendBinary(ByteBuffer.wrap(bytes), done);
            done.get(10, TimeUnit.SECONDS);
            assertEquals(bytes.length, socket.nextMessage(WAIT).binary().length);
            sent += bytes.length;
            received += bytes.length;
        }
        socket.session().close(1000, "bye", Callback.NOOP);
        assertEquals(1000, socket.closed().get(10, TimeUnit.SECONDS).code());
        Scrape after = awaitScrape(kind, s -> s.delta(before, "ide_proxy_websocket_relays_closed_total") >= 1);

        assertEquals(1, after.delta(before, REQUESTS, "method", "GET", "status", "1xx", "outcome", "upgraded"));
        assertEquals(1, after.delta(before, REQUESTS));
        assertEquals(1, after.delta(before, "ide_proxy_websocket_relays_opened_total"));
        assertEquals(1, after.delta(before, "ide_proxy_websocket_relays_closed_total", "code", "1000"));
        assertEquals(1, after.delta(before, "ide_proxy_websocket_relays_closed_total"));
        assertEquals(0, after.delta(before, "ide_proxy_websocket_relays_live"));
        assertEquals(10, after.delta(before, MESSAGES, "direction", "to_upstream"));
        assertEquals(10, after.delta(before, MESSAGES, "direction", "to_browser"));
        assertEquals(sent, after.delta(before, RELAYED, "protocol", "websocket", "direction", "to_upstream"));
        assertEquals(received, after.delta(before, RELAYED, "protocol", "websocket", "direction", "to_browser"));
        assertEquals(0, after.delta(before, RELAYED, "protocol", "http"));
        assertNoWorkspaceOrUser(after, Set.of("w", "walter"));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void failedWebSocketHandshakesAreCountedByWhoAnswered(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        Browser browser = new Browser(server);
        String down = browser.session("wdown", "walter");
        String w = browser.session("w", "walter");
        Scrape before = scrape(kind);

        assertRefused(server, "/__ide/wdown/echo", down);        // nobody listens: 502, our answer
        assertRefused(server, "/__ide/w/refuse", w);             // the upstream answers 403 itself
        assertRefused(server, "/__ide/w/echo", "ide_proxy_session=forged"); // refused by the filter: 401

        Scrape after = awaitScrape(kind, s -> s.delta(before, REQUESTS) >= 3);
        assertEquals(1, after.delta(before, REQUESTS, "method", "GET", "status", "5xx", "outcome", "upstream_error"));
        assertEquals(1, after.delta(before, REQUESTS, "method", "GET", "status", "4xx", "outcome", "proxied"));
        assertEquals(1, after.delta(before, REQUESTS, "method", "GET", "status", "4xx", "outcome", "refused"));
        assertEquals(3, after.delta(before, REQUESTS));
        assertEquals(1, after.delta(before, FAILURES, "protocol", "websocket", "kind", "refused"));
        assertEquals(1, after.delta(before, FAILURES));
        assertEquals(0, after.delta(before, "ide_proxy_websocket_relays_opened_total"));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void storeCallsAreTimedAndTheirFailuresCounted(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        Browser browser = new Browser(server);
        Flaky flaky = stores.get(kind);
        String link = browser.bootstrapUrl("s", "sam");
        Scrape before = scrape(kind);

        flaky.failing = true;
        try {
            assertEquals(503, browser.getPath(link, null).statusCode(), "the replay store is down");
            assertEquals(503, revoke(server, "s").statusCode(), "the revocation store is down");
        } finally {
            flaky.failing = false;
        }
        assertEquals(303, browser.getPath(link, null).statusCode(), "the link still works");
        assertEquals(200, revoke(server, "r").statusCode());

        Scrape after = awaitScrape(kind, s -> s.delta(before, BOOTSTRAPS) >= 2
                && s.delta(before, STORE, "store", "revocation", "operation", "revoke") >= 2);
        assertEquals(1, after.delta(before, BOOTSTRAPS, "outcome", "store_unavailable"));
        assertEquals(1, after.delta(before, BOOTSTRAPS, "outcome", "ok"));
        assertEquals(1, after.delta(before, STORE, "store", "replay", "operation", "mark_used", "outcome", "error"));
        assertEquals(1, after.delta(before, STORE, "store", "replay", "operation", "mark_used", "outcome", "ok"));
        assertEquals(1, after.delta(before, STORE, "store", "revocation", "operation", "revoke", "outcome", "error"));
        assertEquals(1, after.delta(before, STORE, "store", "revocation", "operation", "revoke", "outcome", "ok"));
        assertEquals(1, after.delta(before, "ide_proxy_sessions_revocations_total"), "only the recorded one");
        assertTrue(after.value("ide_proxy_store_calls_seconds_sum", "store", "replay") > 0, "timed");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theWorkspaceTagIsOptIn(Container kind) throws Exception {
        Container.Running server = tagged.get(kind);
        Browser browser = new Browser(server);
        Scrape before = Scrape.parse(taggedRegistries.get(kind).scrape());
        String cookie = browser.session("a", "alice");
        assertEquals(200, browser.getPath("/__ide/a/x", cookie).statusCode());
        assertEquals(401, browser.getPath("/__ide/unproven/x", null).statusCode());
        assertEquals(401, browser.mint("a", null).statusCode());

        Scrape after = await(() -> Scrape.parse(taggedRegistries.get(kind).scrape()),
                s -> s.delta(before, REQUESTS) >= 2 && s.delta(before, MINTS) >= 2);
        assertEquals(1, after.delta(before, REQUESTS, "workspace", "a", "outcome", "proxied"));
        assertEquals(1, after.delta(before, MINTS, "workspace", "a", "outcome", "ok"));
        assertEquals(1, after.delta(before, BOOTSTRAPS, "workspace", "a", "outcome", "ok"));
        // What no session or policy proved is counted under "-": anyone could invent such ids.
        assertEquals(1, after.delta(before, REQUESTS, "workspace", "-", "outcome", "refused"), after.text());
        assertEquals(1, after.delta(before, MINTS, "workspace", "-", "outcome", "unauthenticated"), after.text());
        assertFalse(after.text().contains("unproven"), "an id nobody proved never becomes a tag");
        assertTrue(after.samples().stream().filter(s -> s.name().startsWith("ide_proxy_") && !s.name().startsWith(
                "ide_proxy_store_")).allMatch(s -> s.labels().containsKey("workspace")), "every traffic meter is tagged");
        assertFalse(after.text().contains("alice"), "never a user");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void renewalsAndTimeoutsAreCounted(Container kind) throws Exception {
        Container.Running server = tagged.get(kind);
        Browser browser = new Browser(server);
        String cookie = browser.session("a", "bob");
        Scrape before = Scrape.parse(taggedRegistries.get(kind).scrape());
        Instant now = clock.instant();
        try {
            clock.advance(Duration.ofHours(5)); // less than half of session.ttl (8h) left: renewed
            HttpResponse<String> renewing = browser.getPath("/__ide/a/x", cookie);
            assertEquals(200, renewing.statusCode());
            assertTrue(renewing.headers().firstValue("Set-Cookie").isPresent(), "renewed");
        } finally {
            clock.set(now);
        }
        assertEquals(504, browser.getPath("/__ide/a/silent", cookie).statusCode(), "upstream.idle-timeout is 1s");

        Scrape after = await(() -> Scrape.parse(taggedRegistries.get(kind).scrape()),
                s -> s.delta(before, REQUESTS) >= 2);
        assertEquals(1, after.delta(before, "ide_proxy_sessions_renewed_total", "workspace", "a"));
        assertEquals(1, after.delta(before, "ide_proxy_sessions_renewed_total"));
        assertEquals(1, after.delta(before, FAILURES, "workspace", "a", "protocol", "http", "kind", "timeout"));
        assertEquals(1, after.delta(before, FAILURES));
        assertEquals(1, after.delta(before, REQUESTS, "workspace", "a", "status", "5xx", "outcome", "upstream_error"));
        assertEquals(1, after.delta(before, REQUESTS, "workspace", "a", "status", "2xx", "outcome", "proxied"));
    }

    private HttpResponse<String> revoke(Container.Running server, String workspace) throws Exception {
        return new Browser(server).http().send(HttpRequest.newBuilder(server.uri("/api/dev/" + workspace + "/revoke"))
                .header("Authorization", "Bearer " + Portal.bearer("portal", workspace))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private void assertRefused(Container.Running server, String path, String cookie) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> BrowserSocket.open(client, server, path, cookie));
        assertNotNull(e.getCause());
    }

    private static void send(BrowserSocket socket, String text) throws Exception {
        Callback.Completable done = new Callback.Completable();
        socket.session().sendText(text, done);
        done.get(10, TimeUnit.SECONDS);
    }

    private Scrape awaitScrape(Container kind, Predicate<Scrape> condition) throws InterruptedException {
        return await(() -> scrape(kind), condition);
    }

    /** Scrapes until {@code condition} holds (at most {@link #WAIT}), then returns the last scrape. */
    private static Scrape await(Supplier<Scrape> scraper, Predicate<Scrape> condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Scrape s = scraper.get();
        while (!condition.test(s) && System.nanoTime() < deadline) {
            Thread.sleep(20);
            s = scraper.get();
        }
        return s;
    }

    /** No ide-proxy series has a workspace, user or path label, nor any label value naming one of {@code ids}. */
    private static void assertNoWorkspaceOrUser(Scrape scrape, Set<String> ids) {
        for (Scrape.Sample s : scrape.samples()) {
            if (!s.name().startsWith("ide_proxy_")) {
                continue;
            }
            for (Map.Entry<String, String> label : s.labels().entrySet()) {
                assertFalse(Set.of("workspace", "user", "path", "uri").contains(label.getKey()), s.toString());
                assertFalse(ids.contains(label.getValue()), s.toString());
            }
        }
    }

    /** The in-memory stores, failing on demand. */
    private static final class Flaky {
        volatile boolean failing;
        final ReplayStore replay;
        final RevocationStore revocation;

        Flaky(Clock clock) {
            InMemoryReplayStore memory = new InMemoryReplayStore(1000, clock);
            InMemoryRevocationStore revocations = new InMemoryRevocationStore(clock);
            this.replay = (tokenId, expiresAt) -> {
                if (failing) {
                    throw new ReplayStoreUnavailableException("down for the test");
                }
                return memory.markUsed(tokenId, expiresAt);
            };
            this.revocation = new RevocationStore() {
                @Override
                public void revoke(String workspaceId, String user, Instant at, Instant forgetAfter) {
                    if (failing) {
                        throw new IllegalStateException("down for the test");
                    }
                    revocations.revoke(workspaceId, user, at, forgetAfter);
                }

                @Override
                public Instant revokedAt(String workspaceId, String user) {
                    return revocations.revokedAt(workspaceId, user);
                }
            };
        }
    }
}

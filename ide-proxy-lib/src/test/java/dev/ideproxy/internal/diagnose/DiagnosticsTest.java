package dev.ideproxy.internal.diagnose;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.LogCapture;
import dev.ideproxy.testing.MutableClock;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.RawRequest;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.token.InMemoryRevocationStore;
import dev.ideproxy.token.RevocationStore;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The diagnostics page under {@code /__ide/{id}/.ide-proxy/}, on both containers: the static page loads
 * without a cookie and with its protective headers; ide-proxy's own paths never reach the upstream, in
 * any spelling; the info endpoint says "no session" and nothing else without the workspace's own
 * cookie, and what the proxy saw of the request with it; the echo WebSocket answers only with the
 * workspace's cookie and an Origin the tunnel would accept, and never contacts the upstream.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DiagnosticsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTEXT = "/portal";
    private static final String PAGE = CONTEXT + "/__ide/a/.ide-proxy/diagnose";

    private static final Instant START = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private final MutableClock clock = new MutableClock(START);
    private final Map<Container, SwitchableStore> stores = new EnumMap<>(Container.class);
    private Upstream upstream;
    private Containers servers;
    private WebSocketClient client;

    @BeforeAll
    void start() throws Exception {
        upstream = new Upstream("U");
        servers = Containers.start(CONTEXT, kind -> {
            SwitchableStore store = new SwitchableStore();
            stores.put(kind, store);
            return IdeProxy.builder(IdeProxyConfig.builder()
                            .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                            .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                            .set(ConfigOption.TARGETS, "a=" + upstream.uri() + ",b=" + upstream.uri())
                            // The tests' own address stands in for a TLS terminator in front of the proxy.
                            .set(ConfigOption.FORWARDED_TRUSTED_PROXIES, "127.0.0.1")
                            .build())
                    .clock(clock)
                    .revocationStore(store)
                    .build();
        });
        client = new WebSocketClient();
        client.start();
    }

    @AfterEach
    void storesAndClockBack() {
        stores.values().forEach(store -> store.down = false);
        clock.set(START);
    }

    @AfterAll
    void stop() throws Exception {
        client.stop();
        servers.close();
        upstream.close();
    }

    // ---------------------------------------------------------------- the page

    @ParameterizedTest
    @EnumSource(Container.class)
    void thePageLoadsWithoutACookieWithHeadersThatKeepItInert(Container kind) throws Exception {
        int seen = upstream.seen().size();
        RawHttp.Response page = RawRequest.get(PAGE).send(servers.get(kind));
        assertEquals(200, page.status(), page.toString());
        assertTrue(page.header("Content-Type").startsWith("text/html"), page.header("Content-Type"));
        assertTrue(page.body().contains("<script src=\"diagnose/diagnose.js\" defer></script>"), page.body());
        assertFalse(page.body().replace("<script src=", "").contains("<script"), "no inline script");
        assertProtected(page);

        RawHttp.Response script = RawRequest.get(PAGE + "/diagnose.js").send(servers.get(kind));
        assertEquals(200, script.status(), script.toString());
        assertTrue(script.header("Content-Type").startsWith("text/javascript"), script.header("Content-Type"));
        assertTrue(script.body().contains("isSecureContext"));
        assertProtected(script);

        RawHttp.Response style = RawRequest.get(PAGE + "/diagnose.css").send(servers.get(kind));
        assertEquals(200, style.status(), style.toString());
        assertTrue(style.header("Content-Type").startsWith("text/css"), style.header("Content-Type"));
        assertProtected(style);

        assertNull(page.header("Set-Cookie"));
        assertEquals(seen, upstream.seen().size(), "the page came from the upstream");
    }

    private static void assertProtected(RawHttp.Response response) {
        String csp = response.header("Content-Security-Policy");
        assertNotNull(csp, response.toString());
        assertTrue(csp.contains("default-src 'none'") && csp.contains("script-src 'self'")
                && csp.contains("connect-src 'self'") && csp.contains("frame-ancestors 'none'"), csp);
        assertFalse(csp.contains("unsafe"), csp);
        assertEquals("no-store", response.header("Cache-Control"));
        assertEquals("nosniff", response.header("X-Content-Type-Options"));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theProxysOwnPathsNeverReachTheUpstreamInAnySpelling(Container kind) throws Exception {
        String cookie = new Browser(servers.get(kind)).session("a", "alice");
        int seen = upstream.seen().size();
        String tunnel = CONTEXT + "/__ide/a/";
        Map<String, Integer> own = Map.of(
                ".ide-proxy", 404,
                ".ide-proxy/", 404,
                ".ide-proxy/diagnose/", 404,
                ".ide-proxy/anything?x=1", 404,
                ".ide-proxy/diagnose/info/more", 404,
                "%2eide-proxy/diagnose", 200,
                "%2Eide-proxy/%64iagnose", 200,
                ".ide-proxy/diagnose?from=portal", 200);
        for (Map.Entry<String, Integer> path : own.entrySet()) {
            RawHttp.Response response = RawRequest.get(tunnel + path.getKey()).cookie(cookie).send(servers.get(kind));
            assertEquals(path.getValue(), response.status(), path.getKey() + ": " + response);
            assertEquals(seen, upstream.seen().size(), path.getKey() + " reached the upstream");
        }
        RawHttp.Response post = RawRequest.post(PAGE).cookie(cookie).send(servers.get(kind));
        assertEquals(405, post.status(), post.toString());
        assertEquals("GET", post.header("Allow"));
        RawHttp.Response put = RawRequest.method("PUT", PAGE + "/info").cookie(cookie).send(servers.get(kind));
        assertEquals(405, put.status(), put.toString());
        assertEquals(seen, upstream.seen().size(), "a refused method reached the upstream");

        // Only the exact segment is the proxy's: neighbours are the workspace's.
        for (String theirs : new String[] {".ide-proxyx/diagnose", ".IDE-PROXY/diagnose", "x/.ide-proxy/diagnose"}) {
            RawHttp.Response response = RawRequest.get(tunnel + theirs).cookie(cookie).send(servers.get(kind));
            assertEquals(200, response.status(), theirs + ": " + response);
            assertTrue(response.body().startsWith("U"), theirs + " was not forwarded: " + response.body());
        }
        assertEquals(seen + 3, upstream.seen().size());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theRoutingHappensAfterThePathChecks(Container kind) throws Exception {
        int seen = upstream.seen().size();
        for (String bad : new String[] {"/__ide/a/.ide-proxy/../diagnose", "/__ide/a/.ide-proxy/%2e%2e/x",
                "/__ide/a/.ide-proxy/diagnose;x=1"}) {
            RawHttp.Response response = RawRequest.get(CONTEXT + bad).send(servers.get(kind));
            assertEquals(400, response.status(), bad + ": " + response);
        }
        assertEquals(404, RawRequest.get(CONTEXT + "/__ide/a.b/.ide-proxy/diagnose").send(servers.get(kind)).status(),
                "an invalid workspace id");
        assertEquals(seen, upstream.seen().size());
    }

    // ---------------------------------------------------------------- info

    @ParameterizedTest
    @EnumSource(Container.class)
    void withoutTheWorkspacesOwnCookieTheInfoSaysNoSessionAndNothingElse(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String cookieOfB = browser.session("b", "alice");
        String cookieOfA = browser.session("a", "alice");
        String altered = cookieOfA.substring(0, cookieOfA.length() - 3) + "xyz";
        List<String> strangers = new ArrayList<>();
        strangers.add(null);
        strangers.add(cookieOfB);
        strangers.add(altered);
        strangers.add("ide_proxy_session=not-a-token");
        for (String cookie : strangers) {
            for (String method : new String[] {"GET", "POST"}) {
                RawHttp.Response response = RawRequest.method(method, PAGE + "/info").cookie(cookie)
                        .header("Origin", "http://" + servers.get(kind).hostHeader())
                        .header("X-Forwarded-Proto", "https").send(servers.get(kind));
                assertEquals(200, response.status(), response.toString());
                assertTrue(response.header("Content-Type").startsWith("application/json"), response.header("Content-Type"));
                assertEquals("no-store", response.header("Cache-Control"));
                JsonNode info = JSON.readTree(response.body());
                assertEquals("none", info.get("session").asText(), cookie + ": " + response.body());
                assertEquals(clock.millis(), info.get("serverTime").asLong());
                assertEquals(List.of("session", "serverTime"), fieldNames(info), "more than 'no session': " + response.body());
                assertNull(response.header("Set-Cookie"));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void withTheWorkspacesCookieTheInfoShowsWhatTheProxySawAndNoSecret(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String cookie = new Browser(server).session("a", "alice");
        String origin = "http://" + server.hostHeader();
        try (LogCapture logs = LogCapture.start()) {
            RawHttp.Response response = RawRequest.post(PAGE + "/info").cookie(cookie).header("Origin", origin)
                    .header("X-Forwarded-Proto", "https").header("X-Forwarded-For", "203.0.113.9")
                    .header("X-Forwarded-Host", server.hostHeader()).header("Forwarded", "for=203.0.113.9;proto=https")
                    .send(server);
            assertEquals(200, response.status(), response.toString());
            JsonNode info = JSON.readTree(response.body());
            assertEquals("valid", info.get("session").asText());
            assertEquals(clock.millis(), info.get("serverTime").asLong());
            JsonNode seen = info.get("request");
            assertEquals(server.hostHeader(), seen.get("host").asText());
            assertEquals(origin, seen.get("origin").asText());
            assertEquals("http", seen.get("scheme").asText());
            assertFalse(seen.get("containerSawHttps").asBoolean());
            assertTrue(seen.get("forwardedHeadersTrusted").asBoolean());
            assertTrue(seen.get("browserUsedHttps").asBoolean(), "a trusted proxy said https");
            assertTrue(seen.get("webSocketOriginAllowed").asBoolean());
            JsonNode forwarded = seen.get("forwardedHeaders");
            assertEquals("https", forwarded.get("x-forwarded-proto").asText());
            assertEquals("203.0.113.9", forwarded.get("x-forwarded-for").asText());
            assertEquals(server.hostHeader(), forwarded.get("x-forwarded-host").asText());
            assertEquals("for=203.0.113.9;proto=https", forwarded.get("forwarded").asText());

            String token = cookie.substring(cookie.indexOf('=') + 1);
            for (String secret : new String[] {token, token.substring(token.lastIndexOf('.') + 1), "alice",
                    Integer.toString(upstream.uri().getPort()), Portal.PROXY_SECRET}) {
                assertFalse(response.raw().contains(secret), "the info shows " + secret + ": " + response.raw());
            }
            assertTrue(LogCapture.leaks(logs.lines(), List.of(token)).isEmpty(), "the cookie value was logged");
        }

        RawHttp.Response plain = RawRequest.get(PAGE + "/info").cookie(cookie).header("Origin", "http://evil.example")
                .send(server);
        JsonNode seen = JSON.readTree(plain.body()).get("request");
        assertFalse(seen.get("browserUsedHttps").asBoolean(), "no X-Forwarded-Proto: plain HTTP");
        assertFalse(seen.get("webSocketOriginAllowed").asBoolean(), "another site's origin");
        assertEquals(0, seen.get("forwardedHeaders").size());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theInfoNeverRenewsTheSession(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String cookie = new Browser(server).session("a", "alice");
        clock.advance(Duration.ofHours(5)); // more than half of session.ttl (8 h) gone: the tunnel would renew
        RawHttp.Response info = RawRequest.get(PAGE + "/info").cookie(cookie).send(server);
        assertEquals("valid", JSON.readTree(info.body()).get("session").asText());
        assertNull(info.header("Set-Cookie"), "the diagnostics renewed the session");
        RawHttp.Response tunnel = RawRequest.get(CONTEXT + "/__ide/a/x").cookie(cookie).send(server);
        assertNotNull(tunnel.header("Set-Cookie"), "control: the tunnel renews it");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void whenSessionsCannotBeCheckedTheInfoSaysSoAndTheEchoIsRefused(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String cookie = new Browser(server).session("a", "alice");
        stores.get(kind).down = true;
        RawHttp.Response response = RawRequest.get(PAGE + "/info").cookie(cookie).send(server);
        JsonNode info = JSON.readTree(response.body());
        assertEquals("unavailable", info.get("session").asText(), response.body());
        assertNull(info.get("request"));
        RawHttp.Response echo = RawRequest.get(PAGE + "/echo").cookie(cookie).webSocket()
                .header("Origin", "http://" + server.hostHeader()).send(server);
        assertEquals(503, echo.status(), echo.toString());
        assertEquals(200, RawRequest.get(PAGE).send(server).status(), "the page itself needs no session");
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    // ---------------------------------------------------------------- echo

    @ParameterizedTest
    @EnumSource(Container.class)
    void theEchoAnswersARoundTripItselfAndCloses(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String cookie = new Browser(server).session("a", "alice");
        int seen = upstream.seen().size();
        BrowserSocket socket = echo(server, cookie, "http://" + server.hostHeader());
        socket.session().sendText("ide-proxy-echo-42", Callback.NOOP);
        BrowserSocket.Message message = socket.nextMessage(Duration.ofSeconds(10));
        assertNotNull(message, "no echo");
        assertEquals("ide-proxy-echo-42", message.text());
        BrowserSocket.Closed closed = socket.closed().get(10, TimeUnit.SECONDS);
        assertEquals(1000, closed.code(), closed.toString());
        assertEquals(seen, upstream.seen().size(), "the echo contacted the upstream");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theEchoNeedsTheWorkspacesCookieAndTheTunnelsOriginCheck(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        Browser browser = new Browser(server);
        String cookieOfA = browser.session("a", "alice");
        String cookieOfB = browser.session("b", "alice");
        String sameOrigin = "http://" + server.hostHeader();
        int seen = upstream.seen().size();
        assertEquals(401, refusal(server, null, sameOrigin), "no cookie");
        assertEquals(401, refusal(server, cookieOfB, sameOrigin), "another workspace's cookie");
        assertEquals(403, refusal(server, cookieOfA, "http://evil.example"), "another site's page");
        assertEquals(403, refusal(server, cookieOfA, "null"), "an opaque origin");

        RawHttp.Response plain = RawRequest.get(PAGE + "/echo").cookie(cookieOfA).header("Origin", sameOrigin).send(server);
        assertEquals(400, plain.status(), "what a proxy that drops the Upgrade header delivers: " + plain);
        RawHttp.Response noKey = RawRequest.get(PAGE + "/echo").cookie(cookieOfA).header("Origin", sameOrigin)
                .header("Upgrade", "websocket").header("Connection", "Upgrade").send(server);
        assertEquals(400, noKey.status(), noKey.toString());
        assertEquals(seen, upstream.seen().size(), "a refused echo reached the upstream");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theEchoTakesShortMessagesOnly(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String cookie = new Browser(server).session("a", "alice");
        BrowserSocket socket = echo(server, cookie, "http://" + server.hostHeader());
        socket.session().sendText("x".repeat(EchoEndpoint.MAX_MESSAGE + 1), Callback.NOOP);
        BrowserSocket.Closed closed = socket.closed().get(10, TimeUnit.SECONDS);
        assertEquals(1009, closed.code(), closed.toString());
        assertNull(socket.nextMessage(Duration.ZERO));
    }

    private BrowserSocket echo(Container.Running server, String cookie, String origin) throws Exception {
        BrowserSocket socket = new BrowserSocket();
        ClientUpgradeRequest request = new ClientUpgradeRequest();
        if (cookie != null) {
            request.setHeader("Cookie", cookie);
        }
        request.setHeader("Origin", origin);
        client.connect(socket, URI.create("ws://" + server.hostHeader() + PAGE + "/echo"), request)
                .get(10, TimeUnit.SECONDS);
        return socket;
    }

    private int refusal(Container.Running server, String cookie, String origin) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> echo(server, cookie, origin));
        return assertInstanceOf(UpgradeException.class, e.getCause()).getResponseStatusCode();
    }

    /** A revocation store that fails while {@link #down}: a real server cannot be made to fail on cue here. */
    private static final class SwitchableStore implements RevocationStore {
        private final InMemoryRevocationStore delegate = new InMemoryRevocationStore(java.time.Clock.systemUTC());
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
    }
}

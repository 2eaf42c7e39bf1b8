package dev.ideproxy.internal.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.MutableClock;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RefusingPort;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.internal.token.TokenKeys;
import dev.ideproxy.internal.token.TokenService;
import dev.ideproxy.internal.token.TokenType;
import dev.ideproxy.token.InMemoryReplayStore;
import java.time.Clock;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The owner's flow over HTTP, end to end on both containers: mint, bootstrap, cookie, proxied
 * requests to a real upstream that records what it received; and every way it must refuse.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TunnelHttpTest {
    static final String CONTEXT = "/portal";

    Containers servers;
    final MutableClock clock = new MutableClock(Instant.now());
    Upstream upstreamA;
    Upstream upstreamB;
    RefusingPort refusing;
    int deadPort;

    @BeforeAll
    void start() throws Exception {
        upstreamA = new Upstream("A");
        upstreamB = new Upstream("B");
        refusing = new RefusingPort();
        deadPort = refusing.port();
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstreamA.uri() + ",b=" + upstreamB.uri()
                        + ",down=http://127.0.0.1:" + deadPort + ",prefixed=" + upstreamA.uri() + "/base/")
                .set(ConfigOption.UPSTREAM_IDLE_TIMEOUT, "1500ms")
                .build();
        servers = Containers.start(CONTEXT, kind -> IdeProxy.builder(config).clock(clock).build());
    }

    @AfterAll
    void stop() throws Exception {
        servers.close();
        upstreamA.close();
        upstreamB.close();
        refusing.close();
    }

    @BeforeEach
    void resetClock() {
        clock.set(Instant.now());
    }

    Browser browser(Container kind) {
        return new Browser(servers.get(kind));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void mintAnswersABootstrapUrlThatExpiresSoon(Container kind) throws Exception {
        HttpResponse<String> minted = browser(kind).mint("a", "Bearer " + Portal.bearer("alice", "a"));
        assertEquals(200, minted.statusCode());
        assertEquals("no-store", minted.headers().firstValue("Cache-Control").orElse(null));
        assertTrue(minted.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertTrue(minted.body().contains("\"bootstrapUrl\":\"" + CONTEXT + "/api/dev/a/ide?token="), minted.body());
        assertTrue(minted.body().contains("\"expiresIn\":60"), minted.body());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void bootstrapSetsAScopedHttpOnlyCookieAndRedirectsIntoTheTunnel(Container kind) throws Exception {
        HttpResponse<String> response = browser(kind).bootstrap("a", "alice");
        assertEquals(303, response.statusCode());
        assertEquals(CONTEXT + "/__ide/a/", response.headers().firstValue("Location").orElse(null));
        assertEquals("no-referrer", response.headers().firstValue("Referrer-Policy").orElse(null));
        assertEquals("no-store", response.headers().firstValue("Cache-Control").orElse(null));
        String cookie = response.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(cookie.startsWith("ide_proxy_session="), cookie);
        assertTrue(cookie.contains("; Path=" + CONTEXT + "/__ide/a/"), cookie);
        assertTrue(cookie.contains("; HttpOnly"), cookie);
        assertTrue(cookie.contains("; SameSite=Lax"), cookie);
        assertFalse(cookie.contains("Secure"), "plain HTTP must not set Secure: " + cookie);
        assertTrue(upstreamA.seen().isEmpty() || upstreamA.seen().stream().noneMatch(s -> s.path().contains("api")));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void proxiesGetWithBrowserHostStrippedPathQueryAndFilteredHeaders(Container kind) throws Exception {
        Browser browser = browser(kind);
        String session = browser.session("a", "alice");
        int before = upstreamA.seen().size();
        HttpRequest request = HttpRequest.newBuilder(servers.get(kind).uri("/__ide/a/some/path%20x?q=1&r=two%2F"))
                .header("Cookie", "theme=dark; " + session + "; other=1")
                .header("X-Forwarded-For", "6.6.6.6")
                .header("X-Forwarded-Host", "evil.example")
                .header("Forwarded", "for=6.6.6.6;host=evil.example")
                .header("User-Agent", "ide-proxy-test")
                .GET().build();
        HttpResponse<String> response = browser.http().send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("A GET /some/path%20x?q=1&r=two%2F", response.body());
        assertEquals(before + 1, upstreamA.seen().size());
        Upstream.Seen seen = upstreamA.last();
        assertEquals("/some/path%20x", seen.path());
        assertEquals("q=1&r=two%2F", seen.query());
        assertEquals(servers.get(kind).hostHeader(), seen.header("Host"), "browser-facing Host kept");
        assertNull(seen.header("Origin"), "no Origin invented when the browser sent none");
        assertEquals("theme=dark; other=1", seen.header("Cookie"), "proxy cookie stripped, others kept");
        assertEquals("127.0.0.1", seen.header("X-Forwarded-For"), "set by the proxy, not appended");
        assertEquals("http", seen.header("X-Forwarded-Proto"));
        assertEquals(servers.get(kind).hostHeader(), seen.header("X-Forwarded-Host"));
        assertNull(seen.header("Forwarded"), "client's Forwarded dropped");
        assertEquals("ide-proxy-test", seen.header("User-Agent"));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void proxiesPostBodyAndPassesOriginWhenPresent(Container kind) throws Exception {
        Browser browser = browser(kind);
        String session = browser.session("a", "alice");
        String origin = "http://" + servers.get(kind).hostHeader();
        byte[] body = "x".repeat(100_000).getBytes(StandardCharsets.UTF_8);
        HttpRequest request = HttpRequest.newBuilder(servers.get(kind).uri("/__ide/a/count"))
                .header("Cookie", session)
                .header("Origin", origin)
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        HttpResponse<String> response = browser.http().send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("100000", response.body());
        Upstream.Seen seen = upstreamA.last();
        assertEquals("POST", seen.method());
        assertEquals(origin, seen.header("Origin"));
        assertNull(seen.header("Cookie"), "only the proxy cookie was sent, so no Cookie header upstream");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void workspaceWithoutSlashRedirectsToTheTunnelBase(Container kind) throws Exception {
        HttpResponse<String> response = browser(kind).getPath(CONTEXT + "/__ide/a?x=1", null);
        assertEquals(302, response.statusCode());
        assertEquals(CONTEXT + "/__ide/a/?x=1", response.headers().firstValue("Location").orElse(null));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void upstreamLocationAndSetCookieAreMappedIntoTheTunnel(Container kind) throws Exception {
        Browser browser = browser(kind);
        String session = browser.session("a", "alice");
        String host = servers.get(kind).hostHeader();
        Map<String, String> cases = Map.of(
                "/login?next=%2F", CONTEXT + "/__ide/a/login?next=%2F",
                "http://" + host + "/x/y", CONTEXT + "/__ide/a/x/y",
                upstreamA.uri() + "/z", CONTEXT + "/__ide/a/z",
                "./relative", "./relative",
                "https://elsewhere.example/p", "https://elsewhere.example/p");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            String to = java.net.URLEncoder.encode(c.getKey(), StandardCharsets.UTF_8);
            HttpResponse<String> response = browser.getPath(CONTEXT + "/__ide/a/redirect?to=" + to, session);
            assertEquals(302, response.statusCode());
            assertEquals(c.getValue(), response.headers().firstValue("Location").orElse(null), c.getKey());
        }
        HttpResponse<String> cookies = browser.getPath(CONTEXT + "/__ide/a/set-cookie", session);
        assertEquals(200, cookies.statusCode());
        var setCookies = cookies.headers().allValues("Set-Cookie");
        assertTrue(setCookies.contains("app=1; Path=" + CONTEXT + "/__ide/a/static; HttpOnly"), setCookies.toString());
        assertTrue(setCookies.contains("wide=2; Path=" + CONTEXT + "/__ide/a/"), setCookies.toString());
        assertTrue(setCookies.stream().noneMatch(c -> c.startsWith("ide_proxy_session")), setCookies.toString());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void targetWithPathPrefixKeepsIt(Container kind) throws Exception {
        Browser browser = browser(kind);
        String session = browser.session("prefixed", "alice");
        HttpResponse<String> response = browser.getPath(CONTEXT + "/__ide/prefixed/x?y=1", session);
        assertEquals(200, response.statusCode());
        assertEquals("A GET /base/x?y=1", response.body());
    }

    // ---- refusals: each asserts status, body and that no upstream was contacted ----

    @ParameterizedTest
    @EnumSource(Container.class)
    void noCookieIs401AndTheUpstreamSeesNothing(Container kind) throws Exception {
        int before = upstreamA.seen().size();
        HttpResponse<String> response = browser(kind).getPath(CONTEXT + "/__ide/a/secret", null);
        assertEquals(401, response.statusCode());
        assertTrue(response.body().contains("session for workspace a is missing or has expired"), response.body());
        assertEquals("Cookie realm=\"ide-proxy\"", response.headers().firstValue("WWW-Authenticate").orElse(null),
                "a 401 names its challenge (RFC 9110, 11.6.1)");
        assertEquals(before, upstreamA.seen().size());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void cookieOfWorkspaceAOnWorkspaceBIs401(Container kind) throws Exception {
        Browser browser = browser(kind);
        String sessionA = browser.session("a", "alice");
        int before = upstreamB.seen().size();
        HttpResponse<String> response = browser.getPath(CONTEXT + "/__ide/b/", sessionA);
        assertEquals(401, response.statusCode());
        assertEquals(before, upstreamB.seen().size());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void expiredBootstrapTokenIs401WithoutCookie(Container kind) throws Exception {
        Browser browser = browser(kind);
        String url = browser.bootstrapUrl("a", "alice");
        clock.advance(Duration.ofSeconds(61));
        HttpResponse<String> response = browser.getPath(url, null);
        assertEquals(401, response.statusCode());
        assertTrue(response.body().contains("the token has expired"), response.body());
        assertTrue(response.headers().firstValue("WWW-Authenticate").isPresent(), "a 401 names its challenge");
        assertTrue(response.headers().firstValue("Set-Cookie").isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void bootstrapTokenJustBeforeExpiryStillWorks(Container kind) throws Exception {
        Browser browser = browser(kind);
        String url = browser.bootstrapUrl("a", "alice");
        clock.advance(Duration.ofSeconds(59));
        assertEquals(303, browser.getPath(url, null).statusCode());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void expiredSessionCookieIs401(Container kind) throws Exception {
        Browser browser = browser(kind);
        String session = browser.session("a", "alice");
        int before = upstreamA.seen().size();
        clock.advance(Duration.ofHours(8).plusSeconds(1));
        assertEquals(401, browser.getPath(CONTEXT + "/__ide/a/", session).statusCode());
        assertEquals(before, upstreamA.seen().size());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void tamperedTokenIs401(Container kind) throws Exception {
        Browser browser = browser(kind);
        String url = browser.bootstrapUrl("a", "alice");
        int dot = url.lastIndexOf('.');
        char c = url.charAt(dot + 5);
        String tampered = url.substring(0, dot + 5) + (c == 'A' ? 'B' : 'A') + url.substring(dot + 6);
        HttpResponse<String> response = browser.getPath(tampered, null);
        assertEquals(401, response.statusCode());
        assertTrue(response.body().contains("signature is invalid"), response.body());
        assertTrue(response.headers().firstValue("Set-Cookie").isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void tokenOfAnotherWorkspaceIs401(Container kind) throws Exception {
        Browser browser = browser(kind);
        String url = browser.bootstrapUrl("a", "alice");
        HttpResponse<String> response = browser.getPath(url.replace("/api/dev/a/", "/api/dev/b/"), null);
        assertEquals(401, response.statusCode());
        assertTrue(response.body().contains("issued for another workspace"), response.body());
        assertTrue(response.headers().firstValue("Set-Cookie").isEmpty());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void sessionTokenIsNotABootstrapToken(Container kind) throws Exception {
        Browser browser = browser(kind);
        String session = browser.session("a", "alice");
        String token = session.substring(session.indexOf('=') + 1);
        HttpResponse<String> response = browser.getPath(CONTEXT + "/api/dev/a/ide?token=" + token, null);
        assertEquals(401, response.statusCode());
        assertTrue(response.body().contains("not of the expected kind"), response.body());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void mintRefusals(Container kind) throws Exception {
        Browser browser = browser(kind);
        HttpResponse<String> none = browser.mint("a", null);
        assertEquals(401, none.statusCode());
        assertTrue(none.body().contains("\"error\":\"unauthenticated\""), none.body());
        HttpResponse<String> bad = browser.mint("a", "Bearer not.a.jwt");
        assertEquals(401, bad.statusCode());
        HttpResponse<String> forbidden = browser.mint("b", "Bearer " + Portal.bearer("alice", "a"));
        assertEquals(403, forbidden.statusCode());
        assertTrue(forbidden.body().contains("\"error\":\"forbidden\""), forbidden.body());
        HttpResponse<String> unknown = browser.mint("ghost", "Bearer " + Portal.bearer("alice", "ghost"));
        assertEquals(404, unknown.statusCode());
        assertTrue(unknown.body().contains("\"error\":\"unknown_workspace\""), unknown.body());
        HttpResponse<String> get = browser.getPath(CONTEXT + "/api/dev/a/ide-token", null);
        assertEquals(405, get.statusCode());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void unknownWorkspaceInTheTunnelIs404(Container kind) throws Exception {
        // A valid session for a workspace the resolver does not know (e.g. deleted since).
        IdeProxy proxy = servers.proxy(kind);
        String token = new TokenService(TokenKeys.from(proxy.config()), Duration.ofSeconds(60), Duration.ofHours(8),
                Duration.ofHours(12), new InMemoryReplayStore(10, Clock.systemUTC()), Clock.systemUTC())
                .mint(TokenType.SESSION, "ghost", "alice").token();
        HttpResponse<String> response = browser(kind).getPath(CONTEXT + "/__ide/ghost/", "ide_proxy_session=" + token);
        assertEquals(404, response.statusCode());
        assertTrue(response.body().contains("Workspace ghost does not exist"), response.body());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void upstreamDownIs502Quickly(Container kind) throws Exception {
        Browser browser = browser(kind);
        String session = browser.session("down", "alice");
        long start = System.nanoTime();
        HttpResponse<String> response = browser.getPath(CONTEXT + "/__ide/down/", session);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(502, response.statusCode());
        assertTrue(response.body().contains("Workspace down is not reachable"), response.body());
        assertTrue(millis < 2000, "502 took " + millis + " ms");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aWorkspaceRestartingGetsAPageThatRetriesItselfAndJsonForScripts(Container kind) throws Exception {
        Browser browser = browser(kind);
        String session = browser.session("down", "alice");
        java.net.URI uri = java.net.URI.create("http://" + browser.server().hostHeader() + CONTEXT + "/__ide/down/");
        HttpResponse<String> page = browser.http().send(java.net.http.HttpRequest.newBuilder(uri)
                .header("Cookie", session).header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(502, page.statusCode());
        assertEquals("5", page.headers().firstValue("Retry-After").orElse(null));
        assertEquals("no-store", page.headers().firstValue("Cache-Control").orElse(null));
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), page.headers().toString());
        assertTrue(page.body().contains("<meta http-equiv=\"refresh\" content=\"5\">"), page.body());
        assertTrue(page.body().contains("Workspace down is not reachable: it may be starting or restarting."), page.body());

        HttpResponse<String> data = browser.http().send(java.net.http.HttpRequest.newBuilder(uri)
                .header("Cookie", session).header("Accept", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(502, data.statusCode());
        assertEquals("5", data.headers().firstValue("Retry-After").orElse(null));
        assertTrue(data.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertTrue(data.body().startsWith("{\"error\":\"upstream_unreachable\",\"message\":\"Workspace down"), data.body());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void upstreamSilentIs504(Container kind) throws Exception {
        Browser browser = browser(kind);
        String session = browser.session("a", "alice");
        long start = System.nanoTime();
        HttpResponse<String> response = browser.getPath(CONTEXT + "/__ide/a/silent", session);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(504, response.statusCode());
        assertTrue(response.body().contains("Workspace a did not answer in time"), response.body());
        assertTrue(millis < 5000, "504 took " + millis + " ms");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void eventStreamDeliversTheFirstEventBeforeTheResponseEnds(Container kind) throws Exception {
        Browser browser = browser(kind);
        String session = browser.session("a", "alice");
        HttpRequest request = HttpRequest.newBuilder(servers.get(kind).uri("/__ide/a/events"))
                .header("Cookie", session).GET().build();
        HttpResponse<InputStream> response = browser.http().send(request, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        try (InputStream in = response.body()) {
            byte[] first = "data: first\n\n".getBytes(StandardCharsets.UTF_8);
            byte[] got = in.readNBytes(first.length); // blocks until the first event crossed the proxy
            assertEquals(new String(first, StandardCharsets.UTF_8), new String(got, StandardCharsets.UTF_8));
            upstreamA.releaseEvents();
            assertEquals("data: second\n\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static URI uri(String s) {
        return URI.create(s);
    }
}

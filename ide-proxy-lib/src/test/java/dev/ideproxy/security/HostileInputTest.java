package dev.ideproxy.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.Keys;
import dev.ideproxy.testing.LogCapture;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RateLimitsOff;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.RawRequest;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.token.InMemoryReplayStore;
import dev.ideproxy.internal.token.TokenKeys;
import dev.ideproxy.internal.token.TokenService;
import dev.ideproxy.internal.token.TokenType;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.LoggerFactory;

/**
 * The hostile-input suite: every case on embedded Jetty 12 and Tomcat 11, sent byte for byte over a
 * raw socket. Each asserts the status and body (ours, or the container's own refusal where it
 * refuses first), that no session cookie was handed out, that the upstreams received nothing (or,
 * for the few cases a proxy must pass, exactly one sanitised request), and that no log line written
 * during the case carries a token, a cookie value or a key.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostileInputTest {
    static final String CONTEXT = "/portal";
    static final String COOKIE = "ide_proxy_session";
    static final String ACTIVE_KID = "k2";
    static final String RETIRING_SECRET = "retiring-secret-0123456789abcdef0123";
    static final String FOREIGN_SECRET = "foreign-secret-0123456789abcdef012345";

    Containers servers;
    final Map<Container, String> cookiesOfA = new ConcurrentHashMap<>();
    /** Every token, cookie value and key the suite handled: none may appear in a log line. */
    final Set<String> secrets = ConcurrentHashMap.newKeySet();
    Upstream upstreamA;
    Upstream upstreamB;
    LogCapture logs;

    @BeforeAll
    void start() throws Exception {
        logs = LogCapture.start();
        secrets.addAll(List.of(Portal.PROXY_SECRET, Portal.BEARER_SECRET, RETIRING_SECRET, FOREIGN_SECRET));
        upstreamA = new Upstream("A");
        upstreamB = new Upstream("B");
        // Hundreds of cases mint links for alice within seconds.
        IdeProxyConfig config = RateLimitsOff.on(IdeProxyConfig.builder())
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.TOKEN_KEY_ID, ACTIVE_KID)
                .set(ConfigOption.TOKEN_VERIFICATION_KEYS, "k1=" + RETIRING_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.FORWARDED_TRUSTED_PROXIES, "10.0.0.0/8")
                .set(ConfigOption.TARGETS, "a=" + upstreamA.uri() + ",b=" + upstreamB.uri())
                .build();
        servers = Containers.start(CONTEXT, kind -> IdeProxy.builder(config).build());
    }

    @AfterAll
    void stop() throws Exception {
        try {
            servers.close();
            upstreamA.close();
            upstreamB.close();
            List<String> leaks = LogCapture.leaks(logs.lines(), secrets);
            assertTrue(leaks.isEmpty(), "secrets in log lines over the whole suite:\n" + String.join("\n", leaks));
        } finally {
            logs.close();
        }
    }

    // ------------------------------------------------------------------------------------------
    // The check itself
    // ------------------------------------------------------------------------------------------

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (Container kind : Container.values()) {
            for (Case c : CASES) {
                out.add(Arguments.of(kind, c));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void hostileInput(Container kind, Case c) throws Exception {
        Ctx ctx = new Ctx(kind);
        ctx.cookieOfA(); // created before the marks, so its own requests do not count
        int mark = logs.mark();
        int seenA = upstreamA.seen().size();
        int seenB = upstreamB.seen().size();

        RawHttp.Response response = c.act().run(ctx);

        Expect expect = c.expect(kind);
        assertEquals(expect.status(), response.status(), c + " on " + kind + ":\n" + response);
        String bodyProblem = expect.body().problem(kind, response.status(), response.body());
        assertNull(bodyProblem, () -> bodyProblem + "\n" + response);
        for (String setCookie : response.headers("Set-Cookie")) {
            assertFalse(setCookie.startsWith(COOKIE + "=") && !setCookie.startsWith(COOKIE + ";")
                    && !setCookie.startsWith(COOKIE + "=;"), "a session was handed out: " + response);
        }
        assertEquals(seenB, upstreamB.seen().size(), "workspace b's upstream was contacted");
        if (expect.upstream() == null) {
            assertEquals(seenA, upstreamA.seen().size(), "workspace a's upstream was contacted");
        } else {
            assertEquals(seenA + 1, upstreamA.seen().size(), "exactly one sanitised request upstream");
            Upstream.Seen seen = upstreamA.last();
            seen.headers().forEach((name, values) -> values.forEach(v -> assertFalse(v.contains("\r") || v.contains("\n"),
                    "CR/LF in upstream header " + name)));
            expect.upstream().accept(seen, ctx);
        }
        List<String> leaks = LogCapture.leaks(logs.since(mark), secrets);
        assertTrue(leaks.isEmpty(), "secrets in log lines:\n" + String.join("\n", leaks));
    }

    /** The log check must be able to fail: a canary through each logging path is caught. */
    @Test
    void theLogCheckSeesEveryLoggingPath() {
        int mark = logs.mark();
        String slf4j = "canary-slf4j-" + UUID.randomUUID();
        String jul = "canary-jul-" + UUID.randomUUID();
        String jetty = "canary-jetty-" + UUID.randomUUID();
        LoggerFactory.getLogger("dev.ideproxy.canary").warn("leaking {}", slf4j);
        java.util.logging.Logger.getLogger("org.apache.catalina.canary").log(java.util.logging.Level.WARNING,
                "leaking {0}", jul);
        LoggerFactory.getLogger("org.eclipse.jetty.canary").warn("leaking", new IllegalStateException(jetty));
        List<String> lines = logs.since(mark);
        for (String canary : List.of(slf4j, jul, jetty)) {
            List<String> leaks = LogCapture.leaks(lines, List.of(canary));
            assertFalse(leaks.isEmpty(), "the canary " + canary + " was not caught in " + lines);
            assertTrue(leaks.stream().allMatch(l -> l.contains("<SECRET>") && !l.contains(canary)), leaks.toString());
        }
    }

    /** ide-proxy's own refusals are among the captured lines, so the per-case check reads real output. */
    @Test
    void theProxysOwnLinesAreCaptured() throws Exception {
        int mark = logs.mark();
        RawHttp.Response r = new Ctx(Container.TOMCAT).get(CONTEXT + "/api/dev/a/ide?token=garbage-" + UUID.randomUUID());
        assertEquals(401, r.status());
        assertTrue(logs.since(mark).stream().anyMatch(l -> l.contains("bootstrap for workspace a refused: the token is malformed")),
                logs.since(mark).toString());
    }

    // ------------------------------------------------------------------------------------------
    // The table
    // ------------------------------------------------------------------------------------------

    static final List<Case> CASES = List.of(
            // --- bootstrap tokens: tampered, expired, replayed, other workspace, alg none, keys ---
            refused("token: signature tampered", ours(401, "signature is invalid"), ctx -> {
                String t = ctx.bootstrapToken("a");
                int dot = t.lastIndexOf('.');
                char c = t.charAt(dot + 3);
                return ctx.bootstrap("a", t.substring(0, dot + 3) + (c == 'A' ? 'B' : 'A') + t.substring(dot + 4));
            }),
            refused("token: payload changed to another user", ours(401, "signature is invalid"), ctx -> {
                String t = ctx.bootstrapToken("a");
                return ctx.bootstrap("a", ctx.secret(Keys.withPayload(t, Keys.payload(t).replace("alice", "mallory"))));
            }),
            refused("token: payload changed to another workspace", ours(401, "signature is invalid"), ctx -> {
                String t = ctx.bootstrapToken("a");
                return ctx.bootstrap("b", ctx.secret(Keys.withPayload(t, Keys.payload(t).replace("\"aud\":\"a\"", "\"aud\":\"b\""))));
            }),
            refused("token: expired", ours(401, "the token has expired"),
                    ctx -> ctx.bootstrap("a", ctx.mintAt(TokenType.BOOTSTRAP, "a", Instant.now().minusSeconds(120)))),
            refused("token: replayed", ours(401, "this link has already been used"), ctx -> {
                String t = ctx.bootstrapToken("a");
                assertEquals(303, ctx.bootstrap("a", t).status(), "first use");
                return ctx.bootstrap("a", t);
            }),
            refused("token: issued for another workspace", ours(401, "issued for another workspace"),
                    ctx -> ctx.bootstrap("b", ctx.bootstrapToken("a"))),
            refused("token: alg none, no signature", ours(401, "signature is invalid"), ctx -> {
                String t = ctx.bootstrapToken("a");
                return ctx.bootstrap("a", ctx.secret(Keys.forge("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k2\"}", Keys.payload(t), "")));
            }),
            refused("token: alg none, signature kept", ours(401, "signature is invalid"), ctx -> {
                String t = ctx.bootstrapToken("a");
                return ctx.bootstrap("a", ctx.secret(Keys.withHeader(t, "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k2\"}")));
            }),
            refused("token: alg none without kid", ours(401, "signed with an unknown key"), ctx -> {
                String t = ctx.bootstrapToken("a");
                return ctx.bootstrap("a", ctx.secret(Keys.forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", Keys.payload(t), "")));
            }),
            refused("token: RS256 header on an HS256 key", ours(401, "signature is invalid"), ctx -> {
                String t = ctx.bootstrapToken("a");
                return ctx.bootstrap("a", ctx.secret(Keys.withHeader(t, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k2\"}")));
            }),
            refused("token: unknown kid", ours(401, "signed with an unknown key"), ctx -> {
                String t = ctx.bootstrapToken("a");
                return ctx.bootstrap("a", ctx.secret(Keys.withHeader(t, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k9\"}")));
            }),
            refused("token: no kid", ours(401, "signed with an unknown key"), ctx -> {
                String t = ctx.bootstrapToken("a");
                return ctx.bootstrap("a", ctx.secret(Keys.withHeader(t, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}")));
            }),
            refused("token: signed with a foreign secret under the active kid", ours(401, "signature is invalid"),
                    ctx -> ctx.bootstrap("a", ctx.signed(FOREIGN_SECRET, ACTIVE_KID, "ide-bootstrap", "a", true, true))),
            refused("token: signed by the right key without jti", ours(401, "the token is malformed"),
                    ctx -> ctx.bootstrap("a", ctx.signed(Portal.PROXY_SECRET, ACTIVE_KID, "ide-bootstrap", "a", false, true))),
            refused("token: signed by the right key with another issuer", ours(401, "the token is malformed"),
                    ctx -> ctx.bootstrap("a", ctx.signed(Portal.PROXY_SECRET, ACTIVE_KID, "ide-bootstrap", "a", true, false))),
            refused("token: a session token used as bootstrap", ours(401, "not of the expected kind"),
                    ctx -> ctx.bootstrap("a", ctx.cookieValue(ctx.cookieOfA()))),
            refused("token: garbage", ours(401, "the token is malformed"), ctx -> ctx.bootstrap("a", "not-a-token")),
            refused("token: empty", ours(401, "no token was presented"), ctx -> ctx.get(CONTEXT + "/api/dev/a/ide?token=")),
            refused("token: missing", ours(401, "no token was presented"), ctx -> ctx.get(CONTEXT + "/api/dev/a/ide")),
            // Both containers throw from getParameter on a query they cannot decode; left to Jetty, its error page
            // showed the exception, its stack and the address with the token.
            refused("token: an undecodable query (%zz)", ours(400, "This address is not valid."),
                    ctx -> ctx.get(CONTEXT + "/api/dev/a/ide?token=x%zz")),
            refused("token: two token parameters (the valid one stays unused)", ours(401, "the token is malformed"), ctx -> {
                String t = ctx.bootstrapToken("a");
                RawHttp.Response r = ctx.get(CONTEXT + "/api/dev/a/ide?token=garbage&token=" + t);
                assertEquals(303, ctx.bootstrap("a", t).status(), "the valid token was not used up");
                return r;
            }),
            refused("token: CR/LF and a header in it", ours(401, "the token is malformed"), ctx -> {
                RawHttp.Response r = ctx.get(CONTEXT + "/api/dev/a/ide?token=x%0d%0aSet-Cookie:%20injected=1");
                assertTrue(r.headers("Set-Cookie").stream().noneMatch(v -> v.startsWith("injected")), r.toString());
                return r;
            }),
            refused("token: 5,000 characters", ours(401, "the token is malformed"),
                    ctx -> ctx.bootstrap("a", "eyJ" + "A".repeat(5000))),
            refused("token: another method does not use a link up", ours(405, "Open this address with GET"), ctx -> {
                String t = ctx.bootstrapToken("a");
                RawHttp.Response r = ctx.send("POST " + CONTEXT + "/api/dev/a/ide?token=" + t
                        + " HTTP/1.1\r\nHost: " + ctx.host() + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                assertEquals(303, ctx.bootstrap("a", t).status(), "still usable");
                return r;
            }),
            refused("token: reached through /__ide/%2e%2e/api/... (container decodes)",
                    new Expect(400, containerPage()), new Expect(400, ourPage(400, "This address is not valid.")),
                    ctx -> ctx.get(CONTEXT + "/__ide/%2e%2e/api/dev/a/ide?token=" + ctx.bootstrapToken("a"))),

            // --- session cookies: A's on B, tampered, expired, beyond max lifetime, wrong kind ---
            refused("cookie: workspace a's on b", ours(401, "session for workspace b is missing or has expired"),
                    ctx -> ctx.get(CONTEXT + "/__ide/b/", "Cookie: " + ctx.cookieOfA())),
            refused("cookie: workspace a's on B (another id by case)", ours(401, "session for workspace A is missing"),
                    ctx -> ctx.get(CONTEXT + "/__ide/A/", "Cookie: " + ctx.cookieOfA())),
            refused("cookie: tampered", ours(401, "session for workspace a is missing or has expired"), ctx -> {
                String v = ctx.cookieValue(ctx.cookieOfA());
                return ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + COOKIE + "="
                        + ctx.secret(Keys.withPayload(v, Keys.payload(v).replace("alice", "mallory"))));
            }),
            refused("cookie: expired", ours(401, "session for workspace a is missing or has expired"),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + COOKIE + "="
                            + ctx.mintAt(TokenType.SESSION, "a", Instant.now().minus(Duration.ofHours(9))))),
            refused("cookie: valid expiry but past the session's maximum lifetime", ours(401, "is missing or has expired"),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + COOKIE + "=" + ctx.secret(JWT.create()
                            .withKeyId(ACTIVE_KID).withIssuer("ide-proxy").withAudience("a").withSubject("alice")
                            .withClaim("typ", "ide-session").withJWTId(UUID.randomUUID().toString())
                            .withClaim("auth_time", Instant.now().minus(Duration.ofHours(13)))
                            .withExpiresAt(Instant.now().plus(Duration.ofHours(1)))
                            .sign(Algorithm.HMAC256(Portal.PROXY_SECRET.getBytes(StandardCharsets.UTF_8)))))),
            refused("cookie: a bootstrap token", ours(401, "is missing or has expired"),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + COOKIE + "=" + ctx.bootstrapToken("a"))),
            refused("cookie: alg none", ours(401, "is missing or has expired"), ctx -> {
                String v = ctx.cookieValue(ctx.cookieOfA());
                return ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + COOKIE + "="
                        + ctx.secret(Keys.forge("{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"k2\"}", Keys.payload(v), "")));
            }),
            refused("cookie: unknown kid", ours(401, "is missing or has expired"), ctx -> {
                String v = ctx.cookieValue(ctx.cookieOfA());
                return ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + COOKIE + "="
                        + ctx.secret(Keys.withHeader(v, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k7\"}")));
            }),
            refused("cookie: name in another case", ours(401, "is missing or has expired"),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: IDE_PROXY_SESSION=" + ctx.cookieValue(ctx.cookieOfA()))),
            refused("cookie: twenty forged values", ours(401, "is missing or has expired"),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + (COOKIE + "=eyJhbGciOiJIUzI1NiJ9.e30.x; ").repeat(20))),
            refused("cookie: 7,000 bytes of garbage", ours(401, "is missing or has expired"),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + COOKIE + "=" + "A".repeat(7000))),

            // --- WebSocket handshakes (refused by the tunnel filter before any upgrade) ---
            refused("websocket: workspace a's cookie on b", ours(401, "session for workspace b is missing"),
                    ctx -> ctx.webSocket(CONTEXT + "/__ide/b/socket", "Cookie: " + ctx.cookieOfA())),
            refused("websocket: no cookie", ours(401, "session for workspace a is missing"),
                    ctx -> ctx.webSocket(CONTEXT + "/__ide/a/socket")),
            refused("websocket: a's cookie and a portal Authorization on b", ours(401, "session for workspace b is missing"),
                    ctx -> ctx.webSocket(CONTEXT + "/__ide/b/socket", "Cookie: " + ctx.cookieOfA(),
                            "Authorization: Bearer " + ctx.secret(Portal.bearer("alice", "a", "b")))),
            refused("websocket: expired cookie", ours(401, "session for workspace a is missing"),
                    ctx -> ctx.webSocket(CONTEXT + "/__ide/a/socket", "Cookie: " + COOKIE + "="
                            + ctx.mintAt(TokenType.SESSION, "a", Instant.now().minus(Duration.ofHours(9))))),
            refused("websocket: tampered cookie", ours(401, "session for workspace a is missing"), ctx -> {
                String v = ctx.cookieValue(ctx.cookieOfA());
                return ctx.webSocket(CONTEXT + "/__ide/a/socket", "Cookie: " + COOKIE + "="
                        + ctx.secret(Keys.withPayload(v, Keys.payload(v).replace("\"aud\":\"a\"", "\"aud\":\"b\""))));
            }),
            refused("websocket: traversal to b", new Expect(400, containerPage()), new Expect(400, ourPage(400, "not valid")),
                    ctx -> ctx.webSocket(CONTEXT + "/__ide/a/%2e%2e/b/socket", "Cookie: " + ctx.cookieOfA())),

            // --- paths: traversal and ambiguity, with a valid cookie for a ---
            path("../b/", ours(400, "This address is not valid.")),
            path("%2e%2e/b/", containerThenOurs(400)),
            path("%2E%2E/b/", containerThenOurs(400)),
            path(".%2e/b/", containerThenOurs(400)),
            path("%2e./b/", containerThenOurs(400)),
            path("..%2fb/", container(400)),
            path("%2fb", container(400)),
            path("..%5cb/", container(400)),
            path("\\..\\b/", container(400)),
            path(";/../b/", containerThenOurs(400)),
            path("..;/b/", containerThenOurs(400)),
            path("%252e%252e/b/", containerThenOurs(400)),
            path("%25252e%25252e/b/", containerThenOurs(400)),
            path("%252f", containerThenOurs(400)),
            path("%00", container(400)),
            path("./x", ours(400, "This address is not valid.")),
            path("%2e/x", containerThenOurs(400)),
            path("x/..", ours(400, "This address is not valid.")),
            path("x//y", containerThenOurs(400)),
            path("%c0%ae%c0%ae/b/", container(400)),
            path("%u002e%u002e/", container(400)),
            path("%0d%0aX-Injected:%201", containerThenOurs(400)),
            path("%ff", container(400)),
            path("\u00e9", container(400)),
            raw("path: id with a path parameter (a;x=1)", ours(404, "There is no such workspace."),
                    ctx -> ctx.get(CONTEXT + "/__ide/a;x=1/", "Cookie: " + ctx.cookieOfA())),
            raw("path: id b%2f..%2fa", container(400), ctx -> ctx.get(CONTEXT + "/__ide/b%2f..%2fa/", "Cookie: " + ctx.cookieOfA())),
            raw("path: id a%2fb", container(400), ctx -> ctx.get(CONTEXT + "/__ide/a%2fb/", "Cookie: " + ctx.cookieOfA())),
            raw("path: empty id (/__ide//b/)", new Expect(400, containerPage()), new Expect(404, ourPage(404, "There is no such workspace.")),
                    ctx -> ctx.get(CONTEXT + "/__ide//b/", "Cookie: " + ctx.cookieOfA())),
            raw("path: out of the prefix (a/../../portal/__ide/b/)", container(404),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/../../portal/__ide/b/", "Cookie: " + ctx.cookieOfA())),
            raw("path: encoded context path (/port%61l/__ide/a/)", ours(404, "Not an IDE address."),
                    ctx -> ctx.get("/port%61l/__ide/a/", "Cookie: " + ctx.cookieOfA())),
            raw("path: id outside the pattern (a.b)", ours(404, "There is no such workspace."),
                    ctx -> ctx.get(CONTEXT + "/__ide/a.b/", "Cookie: " + ctx.cookieOfA())),
            raw("path: id of 70 characters", ours(404, "There is no such workspace."),
                    ctx -> ctx.get(CONTEXT + "/__ide/" + "a".repeat(70) + "/", "Cookie: " + ctx.cookieOfA())),

            // --- malformed requests and header injection ---
            raw("header: bare CR inside a value", container(400),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + ctx.cookieOfA(), "X-A: foo\rX-Injected: 1")),
            raw("header: NUL inside a value", container(400),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + ctx.cookieOfA(), "X-A: fo\u0000o")),
            raw("header: space before the colon", container(400),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + ctx.cookieOfA(), "X-A : foo")),
            raw("header: illegal name", container(400),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + ctx.cookieOfA(), "X(A): foo")),
            raw("header: two Host headers", container(400),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + ctx.cookieOfA(), "Host: evil.example")),
            raw("header: no Host", container(400), ctx -> ctx.send("GET " + CONTEXT + "/__ide/a/ HTTP/1.1\r\nCookie: "
                    + ctx.cookieOfA() + "\r\nConnection: close\r\n\r\n")),
            raw("header: absolute-form target naming another host", container(400), ctx -> ctx.send(
                    "GET http://evil.example" + CONTEXT + "/__ide/a/ HTTP/1.1\r\nHost: " + ctx.host() + "\r\nCookie: "
                            + ctx.cookieOfA() + "\r\nConnection: close\r\n\r\n")),
            raw("header: invalid Content-Length", container(400),
                    ctx -> ctx.send("POST " + CONTEXT + "/__ide/a/count HTTP/1.1\r\nHost: " + ctx.host() + "\r\nCookie: "
                            + ctx.cookieOfA() + "\r\nContent-Length: -1\r\nConnection: close\r\n\r\n")),
            new Case("header: obs-fold continuation line", Map.of(
                    Container.JETTY, new Expect(400, containerPage()),
                    Container.TOMCAT, new Expect(200, bodyIs("A GET /"), (seen, ctx) -> {
                        assertNull(seen.header("X-Injected"), "the folded line is not a header of its own");
                        assertNotNull(seen.header("X-A"));
                    })),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + ctx.cookieOfA(), "X-A: foo\r\n X-Injected: 1")),
            new Case("header: bare LF line ends", Map.of(
                    Container.JETTY, new Expect(200, bodyIs("A GET /"), HostileInputTest::noCrLf),
                    Container.TOMCAT, new Expect(200, bodyIs("A GET /"), HostileInputTest::noCrLf)),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + ctx.cookieOfA(), "X-A: foo\nX-B: bar")),
            new Case("header: Content-Length with Transfer-Encoding (smuggling)", Map.of(
                    Container.JETTY, new Expect(400, containerPage()),
                    Container.TOMCAT, new Expect(200, bodyIs("0"), (seen, ctx) -> {
                        assertEquals("POST", seen.method());
                        assertEquals(0, seen.bodyBytes(), "the smuggled request is not a body");
                    })),
                    ctx -> ctx.send("POST " + CONTEXT + "/__ide/a/count HTTP/1.1\r\nHost: " + ctx.host() + "\r\nCookie: "
                            + ctx.cookieOfA() + "\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                            + "0\r\n\r\nGET " + CONTEXT + "/__ide/b/ HTTP/1.1\r\nHost: x\r\n\r\n")),

            // --- oversized inputs ---
            new Case("oversized: a 64 KiB header", Map.of(
                    Container.JETTY, new Expect(431, containerPage()), Container.TOMCAT, new Expect(400, containerPage())),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + ctx.cookieOfA(), "X-A: " + "x".repeat(65536))),
            new Case("oversized: 300 headers", Map.of(
                    Container.JETTY, new Expect(401, ourPage(401, "is missing or has expired")),
                    Container.TOMCAT, new Expect(400, containerPage())),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/", "X-A: 1\r\n".repeat(299) + "X-A: 1")),
            new Case("oversized: a 20 KiB request target", Map.of(
                    Container.JETTY, new Expect(414, containerPage()), Container.TOMCAT, new Expect(400, containerPage())),
                    ctx -> ctx.get(CONTEXT + "/__ide/a/" + "x".repeat(20_000), "Cookie: " + ctx.cookieOfA())),
            raw("oversized: a 1 MiB body without a session", ours(401, "is missing or has expired"),
                    ctx -> ctx.send("POST " + CONTEXT + "/__ide/a/count HTTP/1.1\r\nHost: " + ctx.host()
                            + "\r\nContent-Length: 1048576\r\nConnection: close\r\n\r\n" + "x".repeat(1 << 20))),
            refused("oversized: a 3,000-character target path", ours(400, "must stay inside the workspace"),
                    ctx -> ctx.bootstrapTo("a", CONTEXT + "/__ide/a/" + "x".repeat(3000))),

            // --- redirect escapes: the bootstrap's path parameter ---
            redirect("https://evil.example/"),
            redirect("//evil.example/"),
            redirect("/\\evil.example"),
            redirect("\\\\evil.example"),
            redirect("%2F%2Fevil.example"),
            redirect("%252F%252Fevil.example"),
            redirect("http:" + CONTEXT + "/__ide/a/"),
            redirect("javascript:alert(1)"),
            redirect(CONTEXT + "/__ide/b/"),
            redirect(CONTEXT + "/__ide/a"),
            redirect("/__ide/a/"),
            redirect(CONTEXT + "/__ide/a/../b/"),
            redirect(CONTEXT + "/__ide/a/%2e%2e/b/"),
            redirect(CONTEXT + "/__ide/a/%252e%252e/b/"),
            redirect(CONTEXT + "/__ide/a/..%2f..%2fapi/dev/b/ide"),
            redirect(CONTEXT + "/__ide/a/\\..\\b/"),
            redirect(CONTEXT + "/__ide/a/%5c..%5cb/"),
            redirect(CONTEXT + "/__ide/a//evil.example/"),
            redirect(CONTEXT + "/__ide/a/%0d%0aSet-Cookie:%20x=1"),
            redirect(CONTEXT + "/__ide/a/\r\nSet-Cookie: x=1"),
            redirect(CONTEXT + "/__ide/a/#@evil.example"),
            refused("redirect: two path parameters", ours(400, "must stay inside the workspace"), ctx -> {
                String t = ctx.bootstrapToken("a");
                return ctx.get(CONTEXT + "/api/dev/a/ide?token=" + t + "&path=" + enc(CONTEXT + "/__ide/a/") + "&path="
                        + enc("//evil.example/"));
            }),

            // --- forwarding headers and credentials from an untrusted client: dropped or rebuilt ---
            passes("X-Forwarded-For spoofed", "X-Forwarded-For: 6.6.6.6",
                    (seen, ctx) -> assertEquals("127.0.0.1", seen.header("X-Forwarded-For"))),
            passes("X-Forwarded-Host spoofed", "X-Forwarded-Host: evil.example",
                    (seen, ctx) -> assertEquals(ctx.host(), seen.header("X-Forwarded-Host"))),
            passes("X-Forwarded-Proto spoofed", "X-Forwarded-Proto: https",
                    (seen, ctx) -> assertEquals("http", seen.header("X-Forwarded-Proto"))),
            passes("Forwarded spoofed", "Forwarded: for=6.6.6.6;host=evil.example;proto=https",
                    (seen, ctx) -> assertNull(seen.header("Forwarded"))),
            passes("X-Real-IP and True-Client-IP spoofed", "X-Real-IP: 6.6.6.6\r\nTrue-Client-IP: 6.6.6.6", (seen, ctx) -> {
                assertNull(seen.header("X-Real-IP"));
                assertNull(seen.header("True-Client-IP"));
            }),
            passes("X-Original-URL and X-Forwarded-Prefix spoofed", "X-Original-URL: /admin\r\nX-Forwarded-Prefix: /evil",
                    (seen, ctx) -> {
                        assertNull(seen.header("X-Original-URL"));
                        assertNull(seen.header("X-Forwarded-Prefix"));
                    }),
            passes("Connection naming X-Forwarded-For", "Connection: X-Forwarded-For, close",
                    (seen, ctx) -> assertEquals("127.0.0.1", seen.header("X-Forwarded-For"))),
            passes("the portal's Authorization", "Authorization: Basic cG9ydGFsOnNlY3JldA==",
                    (seen, ctx) -> assertNull(seen.header("Authorization"))),
            passes("a Proxy-Authorization", "Proxy-Authorization: Basic cHJveHk6c2VjcmV0",
                    (seen, ctx) -> assertNull(seen.header("Proxy-Authorization"))),
            passes("a header named in Connection", "Connection: X-Secret, close\r\nX-Secret: hop",
                    (seen, ctx) -> assertNull(seen.header("X-Secret"))),
            passes("an h2c upgrade", "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nConnection: Upgrade, HTTP2-Settings, close",
                    (seen, ctx) -> {
                        assertNull(seen.header("Upgrade"));
                        assertNull(seen.header("HTTP2-Settings"));
                    }),
            passes("hop-by-hop TE, Keep-Alive and Trailer", "TE: trailers\r\nKeep-Alive: timeout=5\r\nTrailer: X-T", (seen, ctx) -> {
                assertNull(seen.header("TE"));
                assertNull(seen.header("Keep-Alive"));
                assertNull(seen.header("Trailer"));
            })
    );

    // ------------------------------------------------------------------------------------------
    // Case builders and expectations
    // ------------------------------------------------------------------------------------------

    /** One hostile request (or a short sequence ending in one), run against a container. */
    @FunctionalInterface
    interface Act {
        RawHttp.Response run(Ctx ctx) throws Exception;
    }

    /** Checks a response body; returns what is wrong, or null. */
    @FunctionalInterface
    interface Body {
        String problem(Container kind, int status, String body);
    }

    /**
     * @param upstream null: the upstreams must see nothing; otherwise exactly one request reaches
     *                 workspace a's upstream and this checks it
     */
    record Expect(int status, Body body, BiConsumer<Upstream.Seen, Ctx> upstream) {
        Expect(int status, Body body) {
            this(status, body, null);
        }
    }

    record Case(String name, Map<Container, Expect> expectations, Act act) {
        Expect expect(Container kind) {
            return expectations.get(kind);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Case refused(String name, Expect both, Act act) {
        return new Case(name, Map.of(Container.JETTY, both, Container.TOMCAT, both), act);
    }

    static Case refused(String name, Expect jetty, Expect tomcat, Act act) {
        return new Case(name, Map.of(Container.JETTY, jetty, Container.TOMCAT, tomcat), act);
    }

    static Case raw(String name, Expect both, Act act) {
        return refused(name, both, act);
    }

    static Case raw(String name, Expect jetty, Expect tomcat, Act act) {
        return refused(name, jetty, tomcat, act);
    }

    static Case raw(String name, Map<Container, Expect> expectations, Act act) {
        return new Case(name, expectations, act);
    }

    static Case path(String rest, Map<Container, Expect> expectations) {
        return new Case("path: a/" + printable(rest), expectations,
                ctx -> ctx.get(CONTEXT + "/__ide/a/" + rest, "Cookie: " + ctx.cookieOfA()));
    }

    static Case path(String rest, Expect both) {
        return path(rest, Map.of(Container.JETTY, both, Container.TOMCAT, both));
    }

    static Case redirect(String target) {
        return new Case("redirect: " + printable(target), both(ours(400, "must stay inside the workspace")),
                ctx -> ctx.bootstrapTo("a", target));
    }

    static Case passes(String name, String headers, BiConsumer<Upstream.Seen, Ctx> check) {
        return new Case("forwarding: " + name, both(new Expect(200, bodyIs("A GET /"), check)),
                ctx -> ctx.get(CONTEXT + "/__ide/a/", "Cookie: " + ctx.cookieOfA(), headers));
    }

    static Map<Container, Expect> both(Expect e) {
        return Map.of(Container.JETTY, e, Container.TOMCAT, e);
    }

    /** Refused by the container itself on both. */
    static Expect container(int status) {
        return new Expect(status, containerPage());
    }

    /** Refused by Jetty's URI compliance first; Tomcat lets it through and ide-proxy refuses it. */
    static Map<Container, Expect> containerThenOurs(int status) {
        return Map.of(Container.JETTY, new Expect(status, containerPage()),
                Container.TOMCAT, new Expect(status, ourPage(status, "This address is not valid.")));
    }

    static Expect ours(int status, String text) {
        return new Expect(status, ourPage(status, text));
    }

    static Body ourPage(int status, String text) {
        return (kind, s, body) -> body.contains("<h1>" + status + " ") && body.contains(text) ? null
                : "expected ide-proxy's " + status + " page saying '" + text + "'";
    }

    /** The container's own error page: Jetty's "HTTP ERROR 400 ...", Tomcat's "HTTP Status 400 – ...". */
    static Body containerPage() {
        return (kind, status, body) -> {
            String marker = kind == Container.JETTY ? "HTTP ERROR " + status : "HTTP Status " + status;
            return body.contains(marker) ? null : "expected the container's own page with '" + marker + "'";
        };
    }

    static Body bodyIs(String text) {
        return (kind, status, body) -> body.equals(text) ? null : "expected the body '" + text + "'";
    }

    static void noCrLf(Upstream.Seen seen, Ctx ctx) {
        assertEquals("foo", seen.header("X-A"));
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            sb.append(c < 0x20 || c > 0x7e ? String.format("\\x%02x", (int) c) : String.valueOf(c));
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------------------------------
    // What a case can do
    // ------------------------------------------------------------------------------------------

    /** One case's view of one container. Every token and cookie it touches is registered as a secret. */
    final class Ctx {
        final Container kind;
        final Container.Running server;
        final IdeProxy proxy;

        Ctx(Container kind) {
            this.kind = kind;
            this.server = servers.get(kind);
            this.proxy = servers.proxy(kind);
        }

        String host() {
            return server.hostHeader();
        }

        <T extends CharSequence> String secret(T value) {
            String s = value.toString();
            secrets.add(s);
            String[] parts = s.split("\\.");
            if (parts.length == 3 && parts[2].length() >= 12) {
                secrets.add(parts[2]); // a signature alone is as good as the token to a forger
            }
            return s;
        }

        /** {@code ide_proxy_session=...} of a fresh session for workspace a (one per container). */
        String cookieOfA() throws Exception {
            String cookie = cookiesOfA.get(kind);
            if (cookie == null) {
                cookie = new Browser(server).session("a", "alice");
                secret(cookieValue(cookie));
                cookiesOfA.put(kind, cookie);
            }
            return cookie;
        }

        String cookieValue(String nameValue) {
            return nameValue.substring(nameValue.indexOf('=') + 1);
        }

        /** A fresh bootstrap token for alice on {@code workspace}, minted through the API. */
        String bootstrapToken(String workspace) throws Exception {
            String url = new Browser(server).bootstrapUrl(workspace, "alice");
            return secret(url.substring(url.indexOf("token=") + "token=".length()));
        }

        /** A token signed by this proxy's own keys, as if minted at {@code at}. */
        String mintAt(TokenType type, String workspace, Instant at) {
            TokenService past = new TokenService(TokenKeys.from(proxy.config()), Duration.ofSeconds(60), Duration.ofHours(8),
                    Duration.ofHours(12), new InMemoryReplayStore(10, Clock.fixed(at, ZoneOffset.UTC)),
                    Clock.fixed(at, ZoneOffset.UTC));
            return secret(past.mint(type, workspace, "alice").token());
        }

        /** A token of type {@code typ} signed with {@code secret} under {@code kid}, with or without jti and issuer. */
        String signed(String key, String kid, String typ, String workspace, boolean jti, boolean issuer) {
            var b = JWT.create().withKeyId(kid).withAudience(workspace).withSubject("alice").withClaim("typ", typ)
                    .withExpiresAt(Instant.now().plusSeconds(60));
            if (jti) {
                b.withJWTId(UUID.randomUUID().toString());
            }
            b.withIssuer(issuer ? "ide-proxy" : "someone-else");
            return secret(b.sign(Algorithm.HMAC256(key.getBytes(StandardCharsets.UTF_8))));
        }

        RawHttp.Response bootstrap(String workspace, String token) throws Exception {
            return get(CONTEXT + "/api/dev/" + workspace + "/ide?token=" + token);
        }

        /** A fresh, valid token with a target path (URL-encoded as a query parameter). */
        RawHttp.Response bootstrapTo(String workspace, String target) throws Exception {
            String token = bootstrapToken(workspace);
            String value = target.startsWith("%") ? target : enc(target);
            return get(CONTEXT + "/api/dev/" + workspace + "/ide?token=" + token + "&path=" + value);
        }

        /** GET {@code target} with the given extra header lines (each without its CRLF). */
        RawHttp.Response get(String target, String... headerLines) throws Exception {
            return withLines(RawRequest.get(target), headerLines).send(server);
        }

        /** A WebSocket handshake for {@code target} with extra header lines. */
        RawHttp.Response webSocket(String target, String... headerLines) throws Exception {
            return withLines(RawRequest.get(target).webSocket().header("Origin", "http://" + host()), headerLines).send(server);
        }

        private static RawRequest withLines(RawRequest request, String... headerLines) {
            for (String line : headerLines) {
                request.line(line);
            }
            return request;
        }

        RawHttp.Response send(String request) throws Exception {
            return RawHttp.send("127.0.0.1", server.base().getPort(), request.getBytes(StandardCharsets.ISO_8859_1));
        }
    }
}

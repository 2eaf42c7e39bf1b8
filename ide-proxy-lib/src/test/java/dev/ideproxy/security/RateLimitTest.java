package dev.ideproxy.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One user must not lock everyone out: mints and bootstraps beyond the per-user and per-workspace
 * rates answer 429 with {@code Retry-After} and change nothing (no link minted, no link used up), while
 * another user goes on; WebSockets beyond the per-session limit answer 429 without contacting the upstream.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RateLimitTest {
    private Upstream http;
    private WebSocketUpstream ws;
    private Containers servers;
    private WebSocketClient client;

    @BeforeAll
    void start() throws Exception {
        http = new Upstream("H");
        ws = new WebSocketUpstream("W");
        servers = Containers.start("", kind -> IdeProxy.builder(IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + http.uri() + ",b=" + http.uri() + ",c=" + http.uri() + ",d=" + http.uri()
                        + ",w=" + ws.uri())
                .set(ConfigOption.LIMIT_MINT_PER_USER, "4/1h")
                .set(ConfigOption.LIMIT_MINT_PER_WORKSPACE, "6/1h")
                .set(ConfigOption.LIMIT_BOOTSTRAP_PER_USER, "2/2s")
                .set(ConfigOption.LIMIT_BOOTSTRAP_PER_WORKSPACE, "0")
                .set(ConfigOption.LIMIT_WEBSOCKETS_PER_SESSION, "2")
                .build()).build());
        client = new WebSocketClient();
        client.start();
    }

    @AfterAll
    void stop() throws Exception {
        client.stop();
        servers.close();
        http.close();
        ws.close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aFloodingUserGets429OnMintWhileAnotherUserMints(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String flooder = "flood-" + kind;
        for (int i = 0; i < 4; i++) {
            assertEquals(200, browser.mint("a", "Bearer " + Portal.bearer(flooder, "a")).statusCode());
        }
        HttpResponse<String> refused = browser.mint("a", "Bearer " + Portal.bearer(flooder, "a"));
        assertEquals(429, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("\"error\":\"too_many_requests\""), refused.body());
        long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= 3600, "Retry-After " + retryAfter);
        // Another user is not affected: mints, bootstraps and uses the tunnel.
        String other = browser.session("a", "other-" + kind);
        assertEquals(200, browser.getPath("/__ide/a/x", other).statusCode());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aWorkspaceOverItsMintRateGets429ForEveryUser(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String workspace = kind == Container.JETTY ? "b" : "c";
        for (int i = 0; i < 6; i++) {
            assertEquals(200, browser.mint(workspace, "Bearer " + Portal.bearer("u" + i + kind, workspace)).statusCode());
        }
        HttpResponse<String> refused = browser.mint(workspace, "Bearer " + Portal.bearer("fresh-" + kind, workspace));
        assertEquals(429, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("workspace"), refused.body());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aBootstrapOverTheUsersRateIs429AndKeepsTheLink(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String user = "busy-" + kind;
        List<String> links = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            links.add(browser.bootstrapUrl("d", user));
        }
        assertEquals(303, browser.getPath(links.get(0), null).statusCode());
        assertEquals(303, browser.getPath(links.get(1), null).statusCode());
        int seen = http.seen().size();
        HttpResponse<String> refused = browser.getPath(links.get(2), null);
        assertEquals(429, refused.statusCode(), refused.body());
        assertTrue(refused.headers().firstValue("Set-Cookie").isEmpty(), "no session on a refusal");
        long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retryAfter >= 1 && retryAfter <= 2, "Retry-After " + retryAfter);
        assertEquals(seen, http.seen().size(), "no upstream contacted");
        // Another user's bootstrap succeeds meanwhile.
        assertEquals(303, browser.bootstrap("d", "calm-" + kind).statusCode());
        // The refused link was not used up: after Retry-After it opens a session.
        Thread.sleep(TimeUnit.SECONDS.toMillis(retryAfter) + 100);
        HttpResponse<String> later = browser.getPath(links.get(2), null);
        assertEquals(303, later.statusCode(), later.body());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void webSocketsBeyondTheSessionLimitAre429WithoutContactingTheUpstream(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String cookie = browser.session("w", "sockets-" + kind);
        BrowserSocket first = BrowserSocket.open(client, servers.get(kind), "/__ide/w/socket", cookie);
        BrowserSocket second = BrowserSocket.open(client, servers.get(kind), "/__ide/w/socket", cookie);
        int handshakes = ws.handshakeCount();
        ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> BrowserSocket.open(client, servers.get(kind), "/__ide/w/socket", cookie));
        UpgradeException upgrade = assertInstanceOf(UpgradeException.class, refused.getCause());
        assertEquals(429, upgrade.getResponseStatusCode());
        assertEquals(handshakes, ws.handshakeCount(), "the upstream was not contacted");
        // Another user's session is not affected.
        BrowserSocket other = BrowserSocket.open(client, servers.get(kind), "/__ide/w/socket", browser.session("w", "neighbour-" + kind));
        // Closing one frees a place.
        first.session().close();
        first.closed().get(10, TimeUnit.SECONDS);
        BrowserSocket third = awaitOpen(servers.get(kind), cookie);
        for (BrowserSocket socket : List.of(second, other, third)) {
            socket.session().close();
        }
    }

    /** Connects once the relay of a socket just closed has left (its close handshake may take a moment). */
    private BrowserSocket awaitOpen(Container.Running server, String cookie) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                return BrowserSocket.open(client, server, "/__ide/w/socket", cookie);
            } catch (ExecutionException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }
}

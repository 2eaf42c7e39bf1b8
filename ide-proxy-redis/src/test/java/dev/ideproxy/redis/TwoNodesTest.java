package dev.ideproxy.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Two ide-proxy nodes, one on embedded Jetty 12 and one on embedded Tomcat 11, with the same keys and
 * one real Redis, as two nodes behind a load balancer without affinity: a link works once across
 * both, a cookie of one works on the other, and a revocation on one closes the other's WebSockets
 * within a second (pushed: the periodic check is off here).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TwoNodesTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** Generous: 200 redemptions at once on a 2-core machine must not time out (timeouts: RedisOutageTest). */
    private static final Duration REDIS_TIMEOUT = Duration.ofSeconds(5);

    private RedisServer redis;
    private RedisStores stores1;
    private RedisStores stores2;
    private Container.Running node1;
    private Container.Running node2;
    private Upstream upstream;
    private WebSocketUpstream wsUpstream;
    private WebSocketClient client;

    @BeforeAll
    void start() throws Exception {
        redis = RedisServer.start();
        upstream = new Upstream("H");
        wsUpstream = new WebSocketUpstream("W");
        stores1 = RedisStores.connect(redis.uri(), REDIS_TIMEOUT);
        stores2 = RedisStores.connect(redis.uri(), REDIS_TIMEOUT);
        node1 = Container.JETTY.start("", proxy(stores1));
        node2 = Container.TOMCAT.start("", proxy(stores2));
        client = new WebSocketClient();
        client.start();
    }

    private IdeProxy proxy(RedisStores stores) {
        return IdeProxy.builder(IdeProxyConfig.builder()
                        .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                        .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                        .set(ConfigOption.TARGETS, "a=" + upstream.uri() + ",w=" + wsUpstream.uri())
                        .set(ConfigOption.SESSION_REVOCATION_CHECK, "0") // only the push closes WebSockets
                        // 400 redemptions of two links race here: the per-node limits would answer most of
                        // them 429 before the replay store is asked. The limits across two nodes, at their
                        // defaults, are TwoNodesFloodTest's.
                        .set(ConfigOption.LIMIT_BOOTSTRAP_PER_USER, "0")
                        .set(ConfigOption.LIMIT_BOOTSTRAP_PER_WORKSPACE, "0")
                        .build())
                .replayStore(stores.replayStore())
                .revocationStore(stores.revocationStore())
                .build();
    }

    @AfterAll
    void stop() throws Exception {
        if (client != null) {
            client.stop();
        }
        for (AutoCloseable c : new AutoCloseable[] {node1, node2, stores1, stores2, upstream, wsUpstream, redis}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @Test
    void aLinkRedeemedOnOneNodeIsRefusedOnTheOtherBothWays() throws Exception {
        String fromOne = new Browser(node1).bootstrapUrl("a", "alice");
        assertEquals(303, get(node1, fromOne).status());
        RawHttp.Response refused = get(node2, fromOne);
        assertEquals(401, refused.status(), refused.toString());
        assertTrue(refused.body().contains("this link has already been used"), refused.body());
        assertTrue(refused.headers("Set-Cookie").isEmpty());

        String fromTwo = new Browser(node2).bootstrapUrl("a", "alice");
        assertEquals(303, get(node2, fromTwo).status());
        assertEquals(401, get(node1, fromTwo).status());

        // Minted on one node, redeemed first on the other: the same.
        String crossed = new Browser(node1).bootstrapUrl("a", "bob");
        assertEquals(303, get(node2, crossed).status());
        assertEquals(401, get(node1, crossed).status());
    }

    @Test
    void twoHundredConcurrentRedemptionsOfOneLinkOnBothNodesOpenExactlyOneSession() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(50);
        try {
            for (int round = 0; round < 2; round++) {
                String url = new Browser(round == 0 ? node1 : node2).bootstrapUrl("a", "carol");
                CountDownLatch go = new CountDownLatch(1);
                List<Future<RawHttp.Response>> results = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    Container.Running node = i % 2 == 0 ? node1 : node2;
                    results.add(pool.submit(() -> {
                        go.await();
                        return get(node, url);
                    }));
                }
                go.countDown();
                int sessions = 0;
                int used = 0;
                for (Future<RawHttp.Response> result : results) {
                    RawHttp.Response r = result.get(120, TimeUnit.SECONDS);
                    if (r.status() == 303) {
                        sessions++;
                        assertTrue(r.header("Set-Cookie").startsWith("ide_proxy_session="), r.toString());
                    } else {
                        assertEquals(401, r.status(), r.toString());
                        assertTrue(r.headers("Set-Cookie").isEmpty(), r.toString());
                        used++;
                    }
                }
                assertEquals(1, sessions, "round " + round + ": exactly one session from 200 redemptions");
                assertEquals(199, used);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aCookieOfOneNodeWorksOnTheOther() throws Exception {
        String cookie = new Browser(node1).session("a", "dave");
        HttpResponse<String> onTwo = new Browser(node2).getPath("/__ide/a/x", cookie);
        assertEquals(200, onTwo.statusCode(), onTwo.body());
        String back = new Browser(node2).session("a", "dave");
        assertEquals(200, new Browser(node1).getPath("/__ide/a/y", back).statusCode());
    }

    @Test
    void aRevokeOnOneNodeEndsTheSessionOnTheOtherAndClosesItsWebSocketWithinASecond() throws Exception {
        Browser onTwo = new Browser(node2);
        String erin = new Browser(node1).session("w", "erin");
        String frank = onTwo.session("w", "frank");
        BrowserSocket erinSocket = connect(node2, erin);
        BrowserSocket frankSocket = connect(node2, frank);
        assertEcho(erinSocket, "before");
        // The WebSocket upstream answers plain HTTP with 404: the tunnel let the request through.
        assertEquals(404, onTwo.getPath("/__ide/w/x", erin).statusCode(), "erin's session works on node 2");

        HttpResponse<String> revoked = new Browser(node1).http().send(HttpRequest.newBuilder(
                        node1.uri("/api/dev/w/revoke?user=erin"))
                .header("Authorization", "Bearer " + Portal.bearer("portal", "w"))
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
        long start = System.nanoTime(); // the revocation is recorded: node 2 has one second from here
        assertEquals(200, revoked.statusCode(), revoked.body());

        int status = onTwo.getPath("/__ide/w/x", erin).statusCode();
        while (status != 401 && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1)) {
            Thread.sleep(5);
            status = onTwo.getPath("/__ide/w/x", erin).statusCode();
        }
        assertEquals(401, status, "node 2 refuses the revoked session");

        BrowserSocket.Closed closed = erinSocket.closed().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(1008, closed.code(), closed.toString());
        assertEquals("session revoked", closed.reason());
        assertTrue(millis < 1_000, "node 2 closed the WebSocket " + millis + " ms after the revoke on node 1");

        assertEcho(frankSocket, "frank is still here");
        assertEquals(404, onTwo.getPath("/__ide/w/x", frank).statusCode(), "another user's session on node 2");
        frankSocket.session().close();
    }

    static RawHttp.Response get(Container.Running server, String pathAndQuery) throws Exception {
        return RawHttp.send("127.0.0.1", server.base().getPort(), "GET " + pathAndQuery + " HTTP/1.1\r\nHost: "
                + server.hostHeader() + "\r\nConnection: close\r\n\r\n");
    }

    private BrowserSocket connect(Container.Running server, String cookie) throws Exception {
        BrowserSocket socket = new BrowserSocket();
        ClientUpgradeRequest request = new ClientUpgradeRequest();
        request.setHeader("Cookie", cookie);
        client.connect(socket, URI.create("ws://" + server.hostHeader() + "/__ide/w/echo"), request)
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        return socket;
    }

    private static void assertEcho(BrowserSocket socket, String text) throws InterruptedException {
        socket.session().sendText(text, Callback.NOOP);
        BrowserSocket.Message echo = socket.nextMessage(WAIT);
        assertNotNull(echo, "no echo of " + text);
        assertEquals("W|" + text, echo.text());
    }
}

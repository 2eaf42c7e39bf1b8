package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RefusingPort;
import dev.ideproxy.testing.WebSocketUpstream;
import jakarta.servlet.ServletContext;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
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
 * The WebSocket tunnel end to end on both containers: a real browser-side client (Jetty's), the
 * proxy in embedded Jetty 12 and Tomcat 11, real upstream WebSocket servers that tag their replies
 * and record what they saw.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WebSocketTunnelTest {
    static final String CONTEXT = "/portal";
    static final Duration WAIT = Duration.ofSeconds(20);
    static final int FLEET = 10;

    final Map<Container, Container.Running> servers = new EnumMap<>(Container.class);
    final Map<Container, ServletContext> contexts = new EnumMap<>(Container.class);
    final Map<String, String> cookies = new ConcurrentHashMap<>();
    final List<WebSocketUpstream> fleet = new ArrayList<>();
    /** Every browser socket a test opened, so that a failing test cannot leave sessions behind. */
    final List<BrowserSocket> opened = new java.util.concurrent.CopyOnWriteArrayList<>();
    WebSocketUpstream upstreamA;
    WebSocketUpstream upstreamB;
    ServerSocket silent;
    RefusingPort refusing;
    int deadPort;
    WebSocketClient client;

    @BeforeAll
    void start() throws Exception {
        upstreamA = new WebSocketUpstream("A");
        upstreamB = new WebSocketUpstream("B");
        for (int i = 0; i < FLEET; i++) {
            fleet.add(new WebSocketUpstream("u" + i));
        }
        refusing = new RefusingPort();
        deadPort = refusing.port();
        // Accepts TCP connections (the kernel does, from the backlog) and never answers.
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        StringBuilder targets = new StringBuilder("a=" + upstreamA.uri() + ",b=" + upstreamB.uri()
                + ",down=http://127.0.0.1:" + deadPort);
        for (int i = 0; i < FLEET; i++) {
            targets.append(",u").append(i).append('=').append(fleet.get(i).uri());
        }
        for (Container kind : Container.values()) {
            IdeProxyConfig config = IdeProxyConfig.builder()
                    .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                    .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                    .set(ConfigOption.TARGETS, targets.toString())
                    .set(ConfigOption.WS_ALLOWED_ORIGINS, "https://portal.example")
                    .build();
            IdeProxy proxy = IdeProxy.builder(config).build();
            servers.put(kind, kind.start(CONTEXT, context -> {
                proxy.install(context);
                contexts.put(kind, context);
            }));
        }
        client = new WebSocketClient();
        client.setIdleTimeout(Duration.ofMinutes(5));
        client.setMaxBinaryMessageSize(256L << 20);
        client.setMaxTextMessageSize(256L << 20);
        client.start();
    }

    @AfterEach
    void closeSockets() {
        for (BrowserSocket socket : opened) {
            Session session = socket.session();
            if (session != null && session.isOpen()) {
                session.disconnect();
            }
        }
        opened.clear();
    }

    @AfterAll
    void stop() throws Exception {
        client.stop();
        for (Container.Running running : servers.values()) {
            running.close();
        }
        for (WebSocketUpstream upstream : fleet) {
            upstream.close();
        }
        upstreamA.close();
        upstreamB.close();
        silent.close();
        refusing.close();
    }

    // ------------------------------------------------------------------ relay

    @ParameterizedTest
    @EnumSource(Container.class)
    void echoesTextAndBinaryFromOneByteTo16MiB(Container kind) throws Exception {
        BrowserSocket socket = open(kind, "a", "/echo", r -> { });
        Random random = new Random(42);
        for (int size : new int[] {1, 125, 126, 65_535, 65_536, 1 << 20, 16 << 20}) {
            String text = text(size, random);
            socket.session().sendText(text, Callback.NOOP);
            BrowserSocket.Message reply = socket.nextMessage(WAIT);
            assertNotNull(reply, "no echo of " + size + " chars");
            assertEquals("A|" + text, reply.text(), "text of " + size + " chars");

            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            socket.session().sendBinary(ByteBuffer.wrap(bytes), Callback.NOOP);
            reply = socket.nextMessage(WAIT);
            assertNotNull(reply, "no echo of " + size + " bytes");
            assertArrayEquals(bytes, reply.binary(), "binary of " + size + " bytes");
        }
        close(socket);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void fragmentsStreamThroughInBothDirections(Container kind) throws Exception {
        BrowserSocket socket = open(kind, "a", "/echo", r -> { });
        Session session = socket.session();
        // Browser to upstream: three frames stay several frames (the proxy does not reassemble).
        Callback.Completable sent = new Callback.Completable();
        session.sendPartialText("frag-", false, Callback.NOOP);
        session.sendPartialText("ment-€-", false, Callback.NOOP);
        session.sendPartialText("ed", true, sent);
        sent.get(10, TimeUnit.SECONDS);
        BrowserSocket.Message reply = socket.nextMessage(WAIT);
        assertEquals("A|frag-ment-€-ed", reply.text());
        assertEquals(3, upstreamA.lastMessageFrames(), "the upstream received the browser's three frames");

        byte[] whole = new byte[300_000];
        new Random(7).nextBytes(whole);
        for (int i = 0; i < 3; i++) {
            session.sendPartialBinary(ByteBuffer.wrap(whole, i * 100_000, 100_000), i == 2, Callback.NOOP);
        }
        reply = socket.nextMessage(WAIT);
        assertArrayEquals(whole, reply.binary());
        assertTrue(upstreamA.lastMessageFrames() >= 3, "frames upstream: " + upstreamA.lastMessageFrames());

        // Upstream to browser.
        session.sendText("!fragments x- y-€ z", Callback.NOOP);
        reply = socket.nextMessage(WAIT);
        assertEquals("x-y-€z", reply.text());
        assertEquals(3, reply.frames(), "the browser received the upstream's three frames");

        session.sendText("!binfragments 4 100000", Callback.NOOP);
        reply = socket.nextMessage(WAIT);
        assertEquals(400_000, reply.binary().length);
        for (int i = 0; i < 4; i++) {
            assertEquals((byte) i, reply.binary()[i * 100_000]);
            assertEquals((byte) i, reply.binary()[i * 100_000 + 99_999]);
        }
        assertTrue(reply.frames() >= 4, "frames at the browser: " + reply.frames());
        close(socket);
    }

    /**
     * A large browser message crosses in large frames: each part the container hands over becomes one
     * upstream frame, so small parts (Jetty reads 4 KiB at a time by default) would mean hundreds of
     * frames, sends and completions per MiB.
     */
    @ParameterizedTest
    @EnumSource(Container.class)
    void aLargeBrowserMessageCrossesInLargeFrames(Container kind) throws Exception {
        BrowserSocket socket = open(kind, "a", "/echo", r -> { });
        byte[] bytes = new byte[1 << 20];
        new Random(11).nextBytes(bytes);
        socket.session().sendBinary(ByteBuffer.wrap(bytes), Callback.NOOP);
        BrowserSocket.Message reply = socket.nextMessage(WAIT);
        assertNotNull(reply, "no echo of 1 MiB");
        assertArrayEquals(bytes, reply.binary());
        // Each read of the browser side becomes one upstream fragment. Read 4 KiB at a time (Jetty's default)
        // makes at least 256 fragments; 64 KiB reads make about 16 when data arrives quickly, more on a busy
        // machine where a read finds less waiting, so the bound sits between the two, clear of timing.
        int frames = upstreamA.lastMessageFrames();
        assertTrue(frames >= 1 && frames < 200, "1 MiB reached the upstream in " + frames + " frames (fewer than 200 wanted)");
        close(socket);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void duplexStreamingDoesNotDeadlock(Container kind) throws Exception {
        // The upstream echoes each fragment while the browser is still sending: both directions at full flow.
        BrowserSocket socket = open(kind, "a", "/stream-echo", r -> { });
        byte[] bytes = new byte[16 << 20];
        new Random(3).nextBytes(bytes);
        socket.session().sendBinary(ByteBuffer.wrap(bytes), Callback.NOOP);
        BrowserSocket.Message reply = socket.nextMessage(Duration.ofSeconds(60));
        assertNotNull(reply, "no echo within 60 s: the relay deadlocked");
        assertArrayEquals(bytes, reply.binary());
        close(socket);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aMessageSentRightAfterConnectingIsNotLost(Container kind) throws Exception {
        for (int i = 0; i < 20; i++) {
            BrowserSocket socket = open(kind, "a", "/greet", r -> { });
            BrowserSocket.Message first = socket.nextMessage(WAIT);
            assertNotNull(first, "greeting lost on attempt " + i);
            assertEquals("A|hello", first.text());
            close(socket);
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void pingsAndPongsCrossTheProxy(Container kind) throws Exception {
        BrowserSocket socket = open(kind, "a", "/echo", r -> { });
        socket.session().sendPing(ByteBuffer.wrap("b-ping".getBytes(StandardCharsets.UTF_8)), Callback.NOOP);
        assertEquals("b-ping", socket.nextPong(WAIT), "the browser's ping is answered");

        socket.session().sendText("!ping u-ping", Callback.NOOP);
        assertEquals("u-ping", socket.nextPing(WAIT), "the upstream's ping reaches the browser");
        assertEquals("u-ping", upstreamA.nextPong(WAIT), "the browser's answer reaches the upstream");

        socket.session().sendPong(ByteBuffer.wrap("b-pong".getBytes(StandardCharsets.UTF_8)), Callback.NOOP);
        assertEquals("b-pong", upstreamA.nextPong(WAIT), "an unsolicited pong reaches the upstream");
        close(socket);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void anUpstreamCloseCodeReachesTheBrowser(Container kind) throws Exception {
        BrowserSocket socket = open(kind, "a", "/echo", r -> { });
        socket.session().sendText("!close 4001 bye from upstream", Callback.NOOP);
        BrowserSocket.Closed closed = socket.closed().get(20, TimeUnit.SECONDS);
        assertEquals(4001, closed.code());
        assertEquals("bye from upstream", closed.reason());
        awaitNoRelays(kind);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aBrowserCloseCodeReachesTheUpstream(Container kind) throws Exception {
        BrowserSocket socket = open(kind, "a", "/echo", r -> { });
        upstreamA.clearCloses();
        socket.session().close(4001, "bye from browser", Callback.NOOP);
        WebSocketUpstream.Closed closed = upstreamA.nextClose(WAIT);
        assertNotNull(closed, "the upstream saw no close");
        assertEquals(4001, closed.code());
        assertEquals("bye from browser", closed.reason());
        assertEquals(4001, socket.closed().get(20, TimeUnit.SECONDS).code(), "the close handshake completed");
        awaitNoRelays(kind);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void closesWithoutAStatusOrAFrameAreMappedToSendableCodes(Container kind) throws Exception {
        // 1005 (a close frame without a code) cannot be sent on: the other side gets 1000.
        BrowserSocket socket = open(kind, "a", "/echo", r -> { });
        upstreamA.clearCloses();
        socket.session().close(1005, null, Callback.NOOP);
        WebSocketUpstream.Closed closed = upstreamA.nextClose(WAIT);
        assertNotNull(closed);
        assertEquals(1000, closed.code());

        // 1006 (the upstream's connection ended without a close frame): the browser gets 1011.
        socket = open(kind, "a", "/echo", r -> { });
        socket.session().sendText("!drop", Callback.NOOP);
        BrowserSocket.Closed dropped = socket.closed().get(20, TimeUnit.SECONDS);
        assertEquals(1011, dropped.code());
        assertEquals("upstream connection lost", dropped.reason());
        awaitNoRelays(kind);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aMessageOverTheLimitClosesBothSidesWith1009(Container kind) throws Exception {
        long limit = 64L << 20; // the default
        // Browser to upstream. (The upstream only reads: Jetty drops the connection right after sending a
        // close code it deems abnormal, such as 1009, so a peer still sending would see a reset instead.)
        BrowserSocket socket = open(kind, "a", "/sink", r -> { }).countOnly();
        upstreamA.clearCloses();
        socket.session().sendBinary(ByteBuffer.allocate((int) limit + 1), Callback.NOOP);
        assertEquals(1009, socket.closed().get(30, TimeUnit.SECONDS).code());
        WebSocketUpstream.Closed closed = upstreamA.nextClose(WAIT);
        assertNotNull(closed);
        assertEquals(1009, closed.code());

        // Upstream to browser.
        socket = open(kind, "a", "/echo", r -> { }).countOnly();
        upstreamA.clearCloses();
        socket.session().sendText("!big " + (limit + 1), Callback.NOOP);
        assertEquals(1009, socket.closed().get(30, TimeUnit.SECONDS).code());
        closed = upstreamA.nextClose(WAIT);
        assertNotNull(closed);
        assertEquals(1009, closed.code());
        assertTrue(socket.binaryBytes() <= limit, "at most the limit reached the browser: " + socket.binaryBytes());
        awaitNoRelays(kind);
    }

    // ------------------------------------------------------------------ handshake

    @ParameterizedTest
    @EnumSource(Container.class)
    void theBrowserGetsTheSubprotocolTheUpstreamChose(Container kind) throws Exception {
        BrowserSocket second = open(kind, "a", "/second-protocol", r -> r.setSubProtocols("first.v1", "second.v2"));
        assertEquals("second.v2", second.session().getUpgradeResponse().getAcceptedSubProtocol());
        assertEquals(List.of("first.v1", "second.v2"), upstreamA.lastHandshake().subprotocols(),
                "the upstream was offered exactly what the browser offered, in order");
        close(second);

        BrowserSocket first = open(kind, "a", "/echo", r -> r.setSubProtocols("first.v1", "second.v2"));
        assertEquals("first.v1", first.session().getUpgradeResponse().getAcceptedSubProtocol());
        close(first);

        BrowserSocket none = open(kind, "a", "/echo", r -> { });
        String accepted = none.session().getUpgradeResponse().getAcceptedSubProtocol();
        assertTrue(accepted == null || accepted.isEmpty(), accepted);
        assertTrue(upstreamA.lastHandshake().subprotocols().isEmpty());
        close(none);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void compressionIsNegotiatedPerHop(Container kind) throws Exception {
        BrowserSocket socket = open(kind, "a", "/echo", r -> r.addExtensions("permessage-deflate"));
        assertTrue(socket.session().getUpgradeResponse().getExtensions().stream()
                .anyMatch(e -> e.getName().equals("permessage-deflate")), "the container compresses towards the browser");
        assertNull(upstreamA.lastHandshake().header("Sec-WebSocket-Extensions"), "the upstream hop is not compressed");
        String text = text(1 << 20, new Random(11));
        socket.session().sendText(text, Callback.NOOP);
        assertEquals("A|" + text, socket.nextMessage(WAIT).text());
        close(socket);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theUpstreamHandshakeCarriesTheBrowsersHeaders(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String origin = "http://" + server.hostHeader();
        BrowserSocket socket = open(kind, "a", "/stable-abc?reconnectionToken=r1&skipWebSocketFrames=false", r -> {
            r.setHeader("Cookie", "theme=dark; " + cookie(kind, "a") + "; other=1");
            r.setHeader("Origin", origin);
            r.setHeader("User-Agent", "ide-proxy-ws-test");
            r.setHeader("X-Forwarded-For", "6.6.6.6");
            r.setHeader("Forwarded", "for=6.6.6.6;host=evil.example");
        });
        WebSocketUpstream.Handshake seen = upstreamA.lastHandshake();
        assertEquals("/stable-abc", seen.path());
        assertEquals("reconnectionToken=r1&skipWebSocketFrames=false", seen.query());
        assertEquals(server.hostHeader(), seen.header("Host"), "browser-facing Host kept");
        assertEquals(origin, seen.header("Origin"));
        assertEquals("theme=dark; other=1", seen.header("Cookie"), "proxy cookie stripped, others kept");
        assertEquals("ide-proxy-ws-test", seen.header("User-Agent"));
        assertEquals("127.0.0.1", seen.header("X-Forwarded-For"), "set by the proxy, not the client's");
        assertEquals("http", seen.header("X-Forwarded-Proto"));
        assertEquals(server.hostHeader(), seen.header("X-Forwarded-Host"));
        assertNull(seen.header("Forwarded"));
        close(socket);

        socket = open(kind, "a", "/no-origin", r -> r.setHeader("User-Agent", "cli"));
        seen = upstreamA.lastHandshake();
        assertNull(seen.header("Origin"), "no Origin invented when the browser sent none");
        assertNull(seen.header("Cookie"), "only the proxy cookie was sent, so no Cookie upstream");
        close(socket);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void anUpstreamRefusalIsAnsweredWithItsStatus(Container kind) throws Exception {
        int before = upstreamA.handshakeCount();
        Raw response = raw(kind, "/__ide/a/refuse", Map.of("Cookie", cookie(kind, "a")));
        assertEquals(403, response.status(), response.body());
        assertTrue(response.body().contains("Workspace a refused the WebSocket connection (HTTP 403)"), response.body());
        assertEquals(before + 1, upstreamA.handshakeCount());
        assertEquals(403, refusedStatus(kind, "a", "/refuse", r -> { }));
        awaitNoRelays(kind);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void anUnreachableUpstreamIs502(Container kind) throws Exception {
        long start = System.nanoTime();
        Raw response = raw(kind, "/__ide/down/", Map.of("Cookie", cookie(kind, "down")));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(502, response.status(), response.body());
        assertTrue(response.body().contains("Workspace down is not reachable"), response.body());
        assertTrue(millis < 2_000, "502 took " + millis + " ms");
        awaitNoRelays(kind);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aSilentUpstreamIs504AfterTheConnectTimeout(Container kind) throws Exception {
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "silent=http://127.0.0.1:" + silent.getLocalPort())
                .set(ConfigOption.UPSTREAM_CONNECT_TIMEOUT, "1s")
                .build();
        ServletContext[] context = new ServletContext[1];
        IdeProxy proxy = IdeProxy.builder(config).build();
        try (Container.Running server = kind.start(CONTEXT, c -> {
            proxy.install(c);
            context[0] = c;
        })) {
            String cookie = new Browser(server).session("silent", "alice");
            long start = System.nanoTime();
            Raw response = raw(server, "/__ide/silent/", Map.of("Cookie", cookie));
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(504, response.status(), response.body());
            assertTrue(response.body().contains("Workspace silent did not answer in time"), response.body());
            assertTrue(millis >= 900 && millis < 4_000, "504 took " + millis + " ms (connect timeout 1 s)");
            WebSocketTunnel tunnel = WebSocketTunnel.of(context[0]);
            waitUntil(() -> tunnel.relays().size() == 0 && tunnel.connector().openSessions() == 0, WAIT,
                    "nothing left of the attempt");
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void anUnauthenticatedUpgradeIs401AndTheUpstreamIsNotContacted(Container kind) throws Exception {
        int before = upstreamA.handshakeCount();
        Raw response = raw(kind, "/__ide/a/echo", Map.of());
        assertEquals(401, response.status());
        assertTrue(response.body().contains("session for workspace a is missing or has expired"), response.body());
        assertEquals(401, refusedStatus(kind, "a", "/echo", r -> r.setHeader("Cookie", "ide_proxy_session=forged")));
        assertEquals(before, upstreamA.handshakeCount());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aCookieOfWorkspaceAIsRefusedOnWorkspaceB(Container kind) throws Exception {
        int before = upstreamB.handshakeCount();
        assertEquals(401, refusedStatus(kind, "b", "/echo", r -> r.setHeader("Cookie", cookie(kind, "a"))));
        assertEquals(before, upstreamB.handshakeCount());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aCrossOriginUpgradeIs403(Container kind) throws Exception {
        int before = upstreamA.handshakeCount();
        Raw response = raw(kind, "/__ide/a/echo", Map.of("Cookie", cookie(kind, "a"), "Origin", "https://evil.example"));
        assertEquals(403, response.status());
        assertTrue(response.body().contains("This page may not open a WebSocket to workspace a"), response.body());
        String host = servers.get(kind).hostHeader();
        String port = host.substring(host.indexOf(':'));
        for (String origin : List.of("http://127.0.0.1", "http://localhost" + port, "null", "http://127.0.0.1" + port + ".evil.example")) {
            assertEquals(403, refusedStatus(kind, "a", "/echo", r -> r.setHeader("Origin", origin)), origin);
        }
        assertEquals(before, upstreamA.handshakeCount(), "no upstream contact for a refused origin");

        for (String origin : List.of("http://" + host, "HTTP://" + host.toUpperCase() + "/", "https://portal.example")) {
            BrowserSocket socket = open(kind, "a", "/echo", r -> r.setHeader("Origin", origin));
            socket.session().sendText("hi", Callback.NOOP);
            assertEquals("A|hi", socket.nextMessage(WAIT).text(), origin);
            close(socket);
        }
        BrowserSocket noOrigin = open(kind, "a", "/echo", r -> { });
        assertNull(upstreamA.lastHandshake().header("Origin"));
        close(noOrigin);
    }

    // ------------------------------------------------------------------ the owner's regression

    @ParameterizedTest
    @EnumSource(Container.class)
    void concurrentSessionsEachReachOnlyTheirOwnUpstream(Container kind) throws Exception {
        int sessions = 50;
        int messages = 20;
        Map<WebSocketUpstream, Integer> before = new LinkedHashMap<>();
        fleet.forEach(u -> before.put(u, u.handshakeCount()));
        for (int i = 0; i < FLEET; i++) {
            cookie(kind, "u" + i);
        }
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        try {
            List<Future<BrowserSocket>> opening = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                String workspace = "u" + (s % FLEET);
                opening.add(pool.submit(() -> open(kind, workspace, "/ide", r -> { })));
            }
            List<BrowserSocket> sockets = new ArrayList<>();
            for (Future<BrowserSocket> f : opening) {
                sockets.add(f.get(60, TimeUnit.SECONDS));
            }
            List<Future<?>> talking = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                int session = s;
                BrowserSocket socket = sockets.get(s);
                String tag = "u" + (s % FLEET);
                talking.add(pool.submit((Callable<Void>) () -> {
                    for (int m = 0; m < messages; m++) {
                        String text = "session-" + session + "-message-" + m;
                        socket.session().sendText(text, Callback.NOOP);
                        BrowserSocket.Message reply = socket.nextMessage(WAIT);
                        assertNotNull(reply, text + ": no reply");
                        assertEquals(tag + "|" + text, reply.text(), "session " + session + " got another upstream's reply");
                    }
                    return null;
                }));
            }
            for (Future<?> f : talking) {
                f.get(60, TimeUnit.SECONDS);
            }
            for (BrowserSocket socket : sockets) {
                assertNull(socket.nextMessage(Duration.ZERO), "a stray message");
                close(socket);
            }
        } finally {
            pool.shutdownNow();
        }
        for (int i = 0; i < FLEET; i++) {
            WebSocketUpstream upstream = fleet.get(i);
            assertEquals(before.get(upstream) + sessions / FLEET, upstream.handshakeCount(), upstream.tag());
        }
        awaitNoRelays(kind);
    }

    // ------------------------------------------------------------------ timeouts

    @ParameterizedTest
    @EnumSource(Container.class)
    void theEffectiveDefaultsAreForAnIdeNotJettys(Container kind) throws Exception {
        WebSocketTunnel tunnel = WebSocketTunnel.of(contexts.get(kind));
        Set<Relay> before = tunnel.relays().snapshot();
        BrowserSocket socket = open(kind, "a", "/echo", r -> { });
        Set<Relay> after = new HashSet<>(tunnel.relays().snapshot());
        after.removeAll(before);
        assertEquals(1, after.size());
        Relay relay = after.iterator().next();
        waitUntil(() -> relay.clientSession() != null, WAIT, "the browser side to open");

        assertEquals(Duration.ofHours(1), tunnel.settings().idleTimeout());
        assertEquals(Duration.ofSeconds(30), tunnel.settings().pingInterval());
        assertEquals(64L << 20, tunnel.settings().maxMessageSize());
        Session upstream = relay.upstreamSession();
        assertEquals(Duration.ofHours(1), upstream.getIdleTimeout(), "not Jetty's 30 s");
        assertEquals(64L << 20, upstream.getMaxBinaryMessageSize());
        assertEquals(64L << 20, upstream.getMaxTextMessageSize());
        assertEquals(Duration.ofHours(1), tunnel.connector().client().getIdleTimeout());
        jakarta.websocket.Session browser = relay.clientSession();
        assertEquals(3_600_000L, browser.getMaxIdleTimeout(), "not the container's default");
        assertEquals(RelaySettings.CLIENT_CHUNK, browser.getMaxBinaryMessageBufferSize());
        assertEquals(3_600_000L, browser.getUserProperties().get(Relay.TOMCAT_BLOCKING_SEND_TIMEOUT));
        close(socket);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void anIdleSessionLivesOnWithKeepAlivesAndADeadPeerIsClosed(Container kind) throws Exception {
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstreamA.uri())
                .set(ConfigOption.WS_PING_INTERVAL, "200ms")
                .set(ConfigOption.WS_IDLE_TIMEOUT, "1s")
                .build();
        try (Container.Running server = kind.start(CONTEXT, IdeProxy.builder(config).build())) {
            String cookie = new Browser(server).session("a", "alice");
            int upstreamPings = upstreamA.pingsReceived();
            BrowserSocket healthy = open(server, "a", "/echo", cookie, r -> { });
            BrowserSocket dead = open(server, "a", "/echo", cookie, r -> { });
            dead.ignorePings();
            upstreamA.clearCloses();

            BrowserSocket.Closed deadClosed = dead.closed().get(10, TimeUnit.SECONDS);
            assertEquals(1001, deadClosed.code(), "a browser that stopped answering is closed");
            assertEquals("idle timeout", deadClosed.reason());
            WebSocketUpstream.Closed upstreamClosed = upstreamA.nextClose(WAIT);
            assertNotNull(upstreamClosed);
            assertEquals(1001, upstreamClosed.code());

            Thread.sleep(3_000); // 15 ping intervals, 3 idle timeouts
            assertTrue(healthy.isOpen(), "a healthy idle session must outlive the idle timeout");
            assertTrue(healthy.pingsReceived() >= 5, "keep-alive pings to the browser: " + healthy.pingsReceived());
            assertTrue(upstreamA.pingsReceived() - upstreamPings >= 5,
                    "keep-alive pings to the upstream: " + (upstreamA.pingsReceived() - upstreamPings));
            healthy.session().sendText("still there?", Callback.NOOP);
            assertEquals("A|still there?", healthy.nextMessage(WAIT).text());
            assertNull(upstreamA.nextPong(Duration.ZERO), "keep-alive pongs are not relayed");
            close(healthy);
        }
    }

    // ------------------------------------------------------------------ flow control and hygiene

    @ParameterizedTest
    @EnumSource(Container.class)
    void aFloodToASlowReaderStallsTheUpstreamAndKeepsTheHeapBounded(Container kind) throws Exception {
        long total = 1L << 30;
        int size = 64 * 1024;
        BrowserSocket socket = open(kind, "a", "/echo", r -> { }).countOnly();
        socket.pause();
        HeapWatch heap = new HeapWatch();
        heap.start();
        long started = System.nanoTime();
        socket.session().sendText("!flood " + total + " " + size, Callback.NOOP);
        Thread.sleep(3_000);
        long sent1 = upstreamA.floodSent();
        Thread.sleep(1_000);
        long sent2 = upstreamA.floodSent();
        long received = socket.binaryBytes();
        System.gc();
        long usedWhilePaused = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        System.out.printf("[%s] flood paused: upstream sent %d MiB, browser read %d KiB, heap after GC %d MiB%n",
                kind, sent2 >> 20, received >> 10, usedWhilePaused >> 20);
        assertTrue(sent2 - sent1 < (1 << 20), "the upstream's sends stalled while the browser paused: "
                + (sent2 - sent1) + " bytes in 1 s");
        assertTrue(sent2 < (64L << 20), "only socket buffers' worth left the upstream: " + (sent2 >> 20) + " MiB");
        assertTrue(usedWhilePaused < (192L << 20), "heap after GC: " + (usedWhilePaused >> 20) + " MiB");

        socket.resume();
        waitUntil(() -> socket.binaryBytes() >= total, Duration.ofSeconds(75), "1 GiB to arrive");
        long seconds = Math.max(1, (System.nanoTime() - started) / 1_000_000_000L);
        heap.stop();
        assertEquals(total, socket.binaryBytes());
        assertEquals(0, socket.sequenceErrors(), "messages arrived in order");
        System.out.printf("[%s] flood of 1 GiB done in about %d s; peak live heap during the flood %d MiB%n",
                kind, seconds, heap.peakAfterGc() >> 20);
        assertTrue(heap.peakAfterGc() < (192L << 20), "peak live heap during the flood: " + (heap.peakAfterGc() >> 20) + " MiB");
        close(socket);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void twoThousandSessionsLeaveNothingBehind(Container kind) throws Exception {
        WebSocketTunnel tunnel = WebSocketTunnel.of(contexts.get(kind));
        cookie(kind, "b");
        // Warm up, so pools have grown to their working size before the baseline is taken.
        runSessions(kind, 40, 20);
        awaitNoRelays(kind);
        int baseThreads = Thread.activeCount();
        long baseClientThreads = clientThreads(tunnel);
        long baseFiles = openFiles();
        int baseUpstream = upstreamB.openSessions();

        long start = System.nanoTime();
        runSessions(kind, 2_000, 20);
        long millis = (System.nanoTime() - start) / 1_000_000;

        awaitNoRelays(kind);
        waitUntil(() -> tunnel.connector().openSessions() == 0, WAIT, "upstream client sessions to close");
        waitUntil(() -> upstreamB.openSessions() == baseUpstream, WAIT, "upstream server sessions to close");
        // Pools (the containers', the client's) may have grown a little under load; sessions own no threads.
        waitUntil(() -> Thread.activeCount() <= baseThreads + 40, WAIT,
                () -> "threads back near " + baseThreads + ", now " + Thread.activeCount());
        waitUntil(() -> openFiles() <= baseFiles + 40, WAIT, "file descriptors back near " + baseFiles);
        long clientThreads = clientThreads(tunnel);
        System.out.printf("[%s] 2000 sessions in %d ms; threads %d -> %d (client pool %d -> %d), open files %d -> %d%n",
                kind, millis, baseThreads, Thread.activeCount(), baseClientThreads, clientThreads, baseFiles, openFiles());
        assertTrue(clientThreads <= baseClientThreads + 20, "client pool grew from " + baseClientThreads + " to " + clientThreads);
    }

    private static long clientThreads(WebSocketTunnel tunnel) {
        String prefix = tunnel.connector().threadName() + "-";
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void destroyingTheWebappClosesSessionsWith1001AndStopsTheClient(Container kind) throws Exception {
        // Installed from an initializer the tunnel registers a listener; from a declared listener (the
        // WAR's way), where the specification forbids that, a servlet's destroy() stops it instead.
        for (Container.Install install : Container.Install.values()) {
            destroyTheWebapp(kind, install);
        }
    }

    private void destroyTheWebapp(Container kind, Container.Install install) throws Exception {
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "b=" + upstreamB.uri())
                .build();
        IdeProxy proxy = IdeProxy.builder(config).build();
        ServletContext[] context = new ServletContext[1];
        try (Container.Running server = kind.start(install, CONTEXT, c -> {
            proxy.install(c);
            context[0] = c;
        })) {
            WebSocketTunnel tunnel = WebSocketTunnel.of(context[0]);
            assertEquals(install == Container.Install.DECLARED_LISTENER,
                    context[0].getServletRegistration("ide-proxy-websocket-lifecycle") != null,
                    install + ": the lifecycle servlet is the fallback only");
            String cookie = new Browser(server).session("b", "alice");
            BrowserSocket socket = open(server, "b", "/echo", cookie, r -> { });
            socket.session().sendText("before", Callback.NOOP);
            assertEquals("B|before", socket.nextMessage(WAIT).text());
            String threads = tunnel.connector().threadName() + "-";
            assertTrue(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith(threads)));
            upstreamB.clearCloses();

            server.stopWebapp(); // an undeploy or redeploy: the context is destroyed, the server runs on

            BrowserSocket.Closed closed = socket.closed().get(20, TimeUnit.SECONDS);
            assertEquals(1001, closed.code(), install + ": " + closed);
            WebSocketUpstream.Closed upstreamClosed = upstreamB.nextClose(WAIT);
            assertNotNull(upstreamClosed);
            assertEquals(1001, upstreamClosed.code());
            assertEquals(0, tunnel.relays().size());
            assertTrue(tunnel.connector().isStopped(), "the upstream client is stopped");
            waitUntil(() -> Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.isAlive() && t.getName().startsWith(threads)), WAIT, "the client's threads to end");
        }
    }

    // ------------------------------------------------------------------ helpers

    /** Opens, uses and closes {@code count} sessions to workspace b, {@code parallel} at a time. */
    private void runSessions(Container kind, int count, int parallel) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            List<Future<?>> batch = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int n = i;
                batch.add(pool.submit((Callable<Void>) () -> {
                    BrowserSocket socket = open(kind, "b", "/echo", r -> { });
                    socket.session().sendText("n" + n, Callback.NOOP);
                    BrowserSocket.Message reply = socket.nextMessage(WAIT);
                    assertNotNull(reply);
                    assertEquals("B|n" + n, reply.text());
                    close(socket);
                    return null;
                }));
            }
            for (Future<?> f : batch) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private BrowserSocket open(Container kind, String workspace, String pathAndQuery, Consumer<ClientUpgradeRequest> customize)
            throws Exception {
        return open(servers.get(kind), workspace, pathAndQuery, cookie(kind, workspace), customize);
    }

    private BrowserSocket open(Container.Running server, String workspace, String pathAndQuery, String cookie,
                               Consumer<ClientUpgradeRequest> customize) throws Exception {
        BrowserSocket socket = new BrowserSocket();
        ClientUpgradeRequest request = new ClientUpgradeRequest();
        request.setHeader("Cookie", cookie);
        customize.accept(request);
        URI uri = URI.create("ws://" + server.hostHeader() + CONTEXT + "/__ide/" + workspace + pathAndQuery);
        opened.add(socket);
        java.util.concurrent.CompletableFuture<Session> connecting = client.connect(socket, uri, request);
        try {
            connecting.get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            // Given up on (refused, timed out, interrupted): never leave a late connection open.
            connecting.thenAccept(Session::disconnect);
            throw e;
        }
        return socket;
    }

    /** The HTTP status that refused the upgrade (via the Jetty client). */
    private int refusedStatus(Container kind, String workspace, String path, Consumer<ClientUpgradeRequest> customize)
            throws Exception {
        try {
            BrowserSocket socket = open(kind, workspace, path, customize);
            close(socket);
            fail("upgraded although it should have been refused");
            return -1;
        } catch (java.util.concurrent.ExecutionException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof UpgradeException u) {
                    return u.getResponseStatusCode();
                }
                if (t instanceof org.eclipse.jetty.websocket.core.exception.UpgradeException u) {
                    return u.getResponseStatusCode();
                }
            }
            throw e;
        }
    }

    private static void close(BrowserSocket socket) throws Exception {
        if (socket.isOpen()) {
            socket.session().close(1000, "done", Callback.NOOP);
        }
        socket.closed().get(20, TimeUnit.SECONDS);
    }

    private String cookie(Container kind, String workspace) {
        return cookies.computeIfAbsent(kind + "/" + workspace, k -> {
            try {
                return new Browser(servers.get(kind)).session(workspace, "alice");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private void awaitNoRelays(Container kind) throws InterruptedException {
        WebSocketTunnel tunnel = WebSocketTunnel.of(contexts.get(kind));
        waitUntil(() -> tunnel.relays().size() == 0, WAIT, () -> "relays to close: "
                + tunnel.relays().snapshot().stream().map(Relay::describe).toList());
    }

    private static void waitUntil(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        waitUntil(condition, timeout, () -> what);
    }

    private static void waitUntil(BooleanSupplier condition, Duration timeout, java.util.function.Supplier<String> what)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout + " waiting for " + what.get());
            }
            Thread.sleep(20);
        }
    }

    private static long openFiles() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.UnixOperatingSystemMXBean unix ? unix.getOpenFileDescriptorCount() : 0;
    }

    /** {@code size} characters of text mixing 1-, 2-, 3- and 4-byte UTF-8 characters. */
    private static String text(int size, Random random) {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 éü€語";
        StringBuilder sb = new StringBuilder(size);
        while (sb.length() < size) {
            if (size - sb.length() >= 2 && random.nextInt(50) == 0) {
                sb.append("😀");
            } else {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
        }
        return sb.toString();
    }

    /** An HTTP answer to a hand-written upgrade request. */
    record Raw(int status, String body) {
    }

    /** Sends a WebSocket handshake over a plain socket and reads the (refusing) answer. */
    private Raw raw(Container kind, String path, Map<String, String> headers) throws Exception {
        return raw(servers.get(kind), path, headers);
    }

    private static Raw raw(Container.Running server, String path, Map<String, String> headers) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.base().getPort())) {
            socket.setSoTimeout(15_000);
            StringBuilder request = new StringBuilder("GET " + CONTEXT + path + " HTTP/1.1\r\n")
                    .append("Host: ").append(server.hostHeader()).append("\r\n")
                    .append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
                    .append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
            headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
            request.append("\r\n");
            OutputStream out = socket.getOutputStream();
            out.write(request.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            String head = readHead(in);
            int status = Integer.parseInt(head.substring(9, 12));
            int length = -1;
            boolean chunked = false;
            for (String line : head.split("\r\n")) {
                String lower = line.toLowerCase();
                if (lower.startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).trim());
                } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                }
            }
            if (status == 101) {
                return new Raw(status, "");
            }
            byte[] body = length >= 0 ? in.readNBytes(length) : chunked ? readChunked(in) : in.readAllBytes();
            return new Raw(status, new String(body, StandardCharsets.UTF_8));
        }
    }

    private static String readHead(InputStream in) throws java.io.IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            matched = (b == '\r' || b == '\n') && "\r\n\r\n".charAt(matched) == b ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    private static byte[] readChunked(InputStream in) throws java.io.IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = readLine(in);
            int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
            if (size == 0) {
                return body.toByteArray();
            }
            body.write(in.readNBytes(size));
            readLine(in);
        }
    }

    private static String readLine(InputStream in) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    /** Samples the heap left after each garbage collection (the retained set) while running. */
    /**
     * Samples the live heap during a transfer: a full collection, then the heap in use, once a second.
     * (The pools' after-collection usage is no measure of what is live: the old generation keeps its
     * garbage until it is collected, so that figure follows the heap's size, not the relay's needs.)
     */
    static final class HeapWatch {
        private final AtomicLong peak = new AtomicLong();
        private volatile boolean running = true;
        private Thread thread;

        void start() {
            thread = new Thread(() -> {
                while (running) {
                    System.gc();
                    long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                    peak.accumulateAndGet(used, Math::max);
                    try {
                        Thread.sleep(1_000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "heap-watch");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(1_000);
        }

        long peakAfterGc() {
            return peak.get();
        }
    }
}

package dev.ideproxy.internal.websocket;

import static dev.ideproxy.internal.websocket.TunnelFixture.CONTEXT;
import static dev.ideproxy.internal.websocket.TunnelFixture.WAIT;
import static dev.ideproxy.internal.websocket.TunnelFixture.close;
import static dev.ideproxy.internal.websocket.TunnelFixture.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.RawRequest;
import dev.ideproxy.testing.WebSocketUpstream;
import jakarta.servlet.ServletContext;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Upgrades that are refused, on both containers: by the upstream (its status passes), for an upstream
 * that is unreachable (502) or silent (504), and by the proxy for a missing or wrong session (401) or a
 * foreign origin (403), those without contacting the upstream. Some are read over a raw socket, some
 * through the WebSocket client.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WebSocketRefusalTest {
    @RegisterExtension
    static final TunnelFixture fixture = new TunnelFixture().upstream("a", "A").upstream("b", "B").refusing("down");

    final WebSocketUpstream upstreamA = fixture.upstream("a");
    final WebSocketUpstream upstreamB = fixture.upstream("b");

    @ParameterizedTest
    @EnumSource(Container.class)
    void anUpstreamRefusalIsAnsweredWithItsStatus(Container kind) throws Exception {
        int before = upstreamA.handshakeCount();
        RawHttp.Response response = raw(kind, "/__ide/a/refuse", Map.of("Cookie", fixture.cookie(kind, "a")));
        assertEquals(403, response.status(), response.body());
        assertTrue(response.body().contains("Workspace a refused the WebSocket connection (HTTP 403)"), response.body());
        assertEquals(before + 1, upstreamA.handshakeCount());
        assertEquals(403, refusedStatus(kind, "a", "/refuse", r -> { }));
        fixture.awaitNoRelays(kind);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void anUnreachableUpstreamIs502(Container kind) throws Exception {
        long start = System.nanoTime();
        RawHttp.Response response = raw(kind, "/__ide/down/", Map.of("Cookie", fixture.cookie(kind, "down")));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(502, response.status(), response.body());
        assertTrue(response.body().contains("Workspace down is not reachable"), response.body());
        assertTrue(millis < 2_000, "502 took " + millis + " ms");
        fixture.awaitNoRelays(kind);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aSilentUpstreamIs504AfterTheConnectTimeout(Container kind) throws Exception {
        // Accepts TCP connections (the kernel does, from the backlog) and never answers.
        ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                    .set(ConfigOption.WS_MODE, TunnelFixture.MODE)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "silent=http://127.0.0.1:" + silent.getLocalPort())
                .set(ConfigOption.UPSTREAM_CONNECT_TIMEOUT, "1s")
                .build();
        ServletContext[] context = new ServletContext[1];
        IdeProxy proxy = IdeProxy.builder(config).build();
        try (silent; Container.Running server = kind.start(CONTEXT, c -> {
            proxy.install(c);
            context[0] = c;
        })) {
            String cookie = new Browser(server).session("silent", "alice");
            long start = System.nanoTime();
            RawHttp.Response response = raw(server, "/__ide/silent/", Map.of("Cookie", cookie));
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
        RawHttp.Response response = raw(kind, "/__ide/a/echo", Map.of());
        assertEquals(401, response.status());
        assertTrue(response.body().contains("session for workspace a is missing or has expired"), response.body());
        assertEquals("Cookie realm=\"ide-proxy\"", response.header("WWW-Authenticate"));
        assertEquals(401, refusedStatus(kind, "a", "/echo", r -> r.setHeader("Cookie", "ide_proxy_session=forged")));
        assertEquals(before, upstreamA.handshakeCount());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aCookieOfWorkspaceAIsRefusedOnWorkspaceB(Container kind) throws Exception {
        int before = upstreamB.handshakeCount();
        assertEquals(401, refusedStatus(kind, "b", "/echo", r -> r.setHeader("Cookie", fixture.cookie(kind, "a"))));
        assertEquals(before, upstreamB.handshakeCount());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aCrossOriginUpgradeIs403(Container kind) throws Exception {
        int before = upstreamA.handshakeCount();
        RawHttp.Response response = raw(kind, "/__ide/a/echo", Map.of("Cookie", fixture.cookie(kind, "a"), "Origin", "https://evil.example"));
        assertEquals(403, response.status());
        assertTrue(response.body().contains("This page may not open a WebSocket to workspace a"), response.body());
        String host = fixture.server(kind).hostHeader();
        String port = host.substring(host.indexOf(':'));
        for (String origin : List.of("http://127.0.0.1", "http://localhost" + port, "null", "http://127.0.0.1" + port + ".evil.example")) {
            assertEquals(403, refusedStatus(kind, "a", "/echo", r -> r.setHeader("Origin", origin)), origin);
        }
        assertEquals(before, upstreamA.handshakeCount(), "no upstream contact for a refused origin");

        for (String origin : List.of("http://" + host, "HTTP://" + host.toUpperCase() + "/", "https://portal.example")) {
            BrowserSocket socket = fixture.open(kind, "a", "/echo", r -> r.setHeader("Origin", origin));
            socket.session().sendText("hi", Callback.NOOP);
            assertEquals("A|hi", socket.nextMessage(WAIT).text(), origin);
            close(socket);
        }
        BrowserSocket noOrigin = fixture.open(kind, "a", "/echo", r -> { });
        assertNull(upstreamA.lastHandshake().header("Origin"));
        close(noOrigin);
    }

    /** The HTTP status that refused the upgrade (via the Jetty client). */
    private int refusedStatus(Container kind, String workspace, String path, Consumer<ClientUpgradeRequest> customize)
            throws Exception {
        try {
            BrowserSocket socket = fixture.open(kind, workspace, path, customize);
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

    /** Sends a WebSocket handshake over a plain socket and reads the (refusing) answer. */
    private RawHttp.Response raw(Container kind, String path, Map<String, String> headers) throws Exception {
        return raw(fixture.server(kind), path, headers);
    }

    private static RawHttp.Response raw(Container.Running server, String path, Map<String, String> headers)
            throws Exception {
        RawRequest request = RawRequest.get(CONTEXT + path).webSocket();
        headers.forEach(request::header);
        return request.send(server);
    }
}

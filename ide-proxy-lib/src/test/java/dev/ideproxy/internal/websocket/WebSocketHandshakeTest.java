package dev.ideproxy.internal.websocket;

import static dev.ideproxy.internal.websocket.TunnelFixture.WAIT;
import static dev.ideproxy.internal.websocket.TunnelFixture.close;
import static dev.ideproxy.internal.websocket.TunnelFixture.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.WebSocketUpstream;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * What the upstream handshake carries on both containers: the subprotocols the browser offered and the
 * one the upstream chose, compression negotiated per hop, and the browser's headers (the proxy's cookie
 * and forwarding claims removed).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WebSocketHandshakeTest {
    @RegisterExtension
    static final TunnelFixture fixture = new TunnelFixture().upstream("a", "A");

    final WebSocketUpstream upstreamA = fixture.upstream("a");

    @ParameterizedTest
    @EnumSource(Container.class)
    void theBrowserGetsTheSubprotocolTheUpstreamChose(Container kind) throws Exception {
        BrowserSocket second = fixture.open(kind, "a", "/second-protocol", r -> r.setSubProtocols("first.v1", "second.v2"));
        assertEquals("second.v2", second.session().getUpgradeResponse().getAcceptedSubProtocol());
        assertEquals(List.of("first.v1", "second.v2"), upstreamA.lastHandshake().subprotocols(),
                "the upstream was offered exactly what the browser offered, in order");
        close(second);

        BrowserSocket first = fixture.open(kind, "a", "/echo", r -> r.setSubProtocols("first.v1", "second.v2"));
        assertEquals("first.v1", first.session().getUpgradeResponse().getAcceptedSubProtocol());
        close(first);

        BrowserSocket none = fixture.open(kind, "a", "/echo", r -> { });
        String accepted = none.session().getUpgradeResponse().getAcceptedSubProtocol();
        assertTrue(accepted == null || accepted.isEmpty(), accepted);
        assertTrue(upstreamA.lastHandshake().subprotocols().isEmpty());
        close(none);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void compressionIsNegotiatedPerHopOrEndToEnd(Container kind) throws Exception {
        BrowserSocket socket = fixture.open(kind, "a", "/echo", r -> r.addExtensions("permessage-deflate"));
        assertTrue(socket.session().getUpgradeResponse().getExtensions().stream()
                .anyMatch(e -> e.getName().equals("permessage-deflate")), "the browser's hop is compressed");
        String offered = upstreamA.lastHandshake().header("Sec-WebSocket-Extensions");
        if (fixture.passthrough(kind)) {
            // Bytes relayed as they are: the browser's offer reaches the upstream, which compresses once.
            assertNotNull(offered, "the browser's offer reaches the upstream");
            assertTrue(offered.contains("permessage-deflate"), offered);
        } else {
            assertNull(offered, "the upstream hop is not compressed");
        }
        String text = text(1 << 20, new Random(11));
        socket.session().sendText(text, Callback.NOOP);
        assertEquals("A|" + text, socket.nextMessage(WAIT).text());
        close(socket);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theUpstreamHandshakeCarriesTheBrowsersHeaders(Container kind) throws Exception {
        Container.Running server = fixture.server(kind);
        String origin = "http://" + server.hostHeader();
        BrowserSocket socket = fixture.open(kind, "a", "/stable-abc?reconnectionToken=r1&skipWebSocketFrames=false", r -> {
            r.setHeader("Cookie", "theme=dark; " + fixture.cookie(kind, "a") + "; other=1");
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

        socket = fixture.open(kind, "a", "/no-origin", r -> r.setHeader("User-Agent", "cli"));
        seen = upstreamA.lastHandshake();
        assertNull(seen.header("Origin"), "no Origin invented when the browser sent none");
        assertNull(seen.header("Cookie"), "only the proxy cookie was sent, so no Cookie upstream");
        close(socket);
    }
}

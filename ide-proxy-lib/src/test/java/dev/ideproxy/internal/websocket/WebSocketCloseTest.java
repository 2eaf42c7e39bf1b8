package dev.ideproxy.internal.websocket;

import static dev.ideproxy.internal.websocket.TunnelFixture.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.WebSocketUpstream;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Closing through the WebSocket relay on both containers: each side's close code and reason reach the
 * other, and closes that cannot be sent on as they are (no status, no close frame) are mapped to codes
 * that can.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WebSocketCloseTest {
    @RegisterExtension
    static final TunnelFixture fixture = new TunnelFixture().upstream("a", "A");

    final WebSocketUpstream upstreamA = fixture.upstream("a");

    @ParameterizedTest
    @EnumSource(Container.class)
    void anUpstreamCloseCodeReachesTheBrowser(Container kind) throws Exception {
        BrowserSocket socket = fixture.open(kind, "a", "/echo", r -> { });
        socket.session().sendText("!close 4001 bye from upstream", Callback.NOOP);
        BrowserSocket.Closed closed = socket.closed().get(20, TimeUnit.SECONDS);
        assertEquals(4001, closed.code());
        assertEquals("bye from upstream", closed.reason());
        fixture.awaitNoRelays(kind);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aBrowserCloseCodeReachesTheUpstream(Container kind) throws Exception {
        BrowserSocket socket = fixture.open(kind, "a", "/echo", r -> { });
        upstreamA.clearCloses();
        socket.session().close(4001, "bye from browser", Callback.NOOP);
        WebSocketUpstream.Closed closed = upstreamA.nextClose(WAIT);
        assertNotNull(closed, "the upstream saw no close");
        assertEquals(4001, closed.code());
        assertEquals("bye from browser", closed.reason());
        assertEquals(4001, socket.closed().get(20, TimeUnit.SECONDS).code(), "the close handshake completed");
        fixture.awaitNoRelays(kind);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void closesWithoutAStatusOrAFrameAreMappedToSendableCodes(Container kind) throws Exception {
        // 1005 (a close frame without a code) cannot be sent on by a WebSocket stack: the other side
        // gets 1000. In passthrough the frame itself crosses: the other side sees no code, 1005, too.
        BrowserSocket socket = fixture.open(kind, "a", "/echo", r -> { });
        upstreamA.clearCloses();
        socket.session().close(1005, null, Callback.NOOP);
        WebSocketUpstream.Closed closed = upstreamA.nextClose(WAIT);
        assertNotNull(closed);
        assertEquals(fixture.passthrough(kind) ? 1005 : 1000, closed.code());

        // 1006 (the upstream's connection ended without a close frame): the browser gets 1011.
        socket = fixture.open(kind, "a", "/echo", r -> { });
        socket.session().sendText("!drop", Callback.NOOP);
        BrowserSocket.Closed dropped = socket.closed().get(20, TimeUnit.SECONDS);
        assertEquals(1011, dropped.code());
        assertEquals("upstream connection lost", dropped.reason());
        fixture.awaitNoRelays(kind);
    }
}

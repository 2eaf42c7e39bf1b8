package dev.ideproxy.internal.websocket;

import static dev.ideproxy.internal.websocket.TunnelFixture.CONTEXT;
import static dev.ideproxy.internal.websocket.TunnelFixture.WAIT;
import static dev.ideproxy.internal.websocket.TunnelFixture.close;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.WebSocketUpstream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Pings, pongs and idleness through the WebSocket relay on both containers: the peers' pings and pongs
 * cross, the relay's own keep-alive pings hold an idle session open past the idle timeout, and a peer
 * that stopped answering is closed.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WebSocketKeepAliveTest {
    @RegisterExtension
    static final TunnelFixture fixture = new TunnelFixture().upstream("a", "A");

    final WebSocketUpstream upstreamA = fixture.upstream("a");

    @ParameterizedTest
    @EnumSource(Container.class)
    void pingsAndPongsCrossTheProxy(Container kind) throws Exception {
        BrowserSocket socket = fixture.open(kind, "a", "/echo", r -> { });
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
    void anIdleSessionLivesOnWithKeepAlivesAndADeadPeerIsClosed(Container kind) throws Exception {
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                    .set(ConfigOption.WS_MODE, TunnelFixture.MODE)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstreamA.uri())
                .set(ConfigOption.WS_PING_INTERVAL, "200ms")
                .set(ConfigOption.WS_IDLE_TIMEOUT, "1s")
                .build();
        try (Container.Running server = kind.start(CONTEXT, IdeProxy.builder(config).build())) {
            String cookie = new Browser(server).session("a", "alice");
            int upstreamPings = upstreamA.pingsReceived();
            BrowserSocket healthy = fixture.open(server, "a", "/echo", cookie, r -> { });
            BrowserSocket dead = fixture.open(server, "a", "/echo", cookie, r -> { });
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
}

package dev.ideproxy.internal.websocket;

import dev.ideproxy.config.WebSocketMode;
import static dev.ideproxy.internal.websocket.TunnelFixture.WAIT;
import static dev.ideproxy.internal.websocket.TunnelFixture.close;
import static dev.ideproxy.internal.websocket.TunnelFixture.waitUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.WebSocketUpstream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Messages and frames across the WebSocket relay on both containers: fragments stay fragments in both
 * directions, a large browser message crosses in large frames, a message over the size limit closes
 * both sides with 1009, and the effective limits and timeouts are an IDE's, not the containers' or Jetty's.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WebSocketLimitsTest {
    @RegisterExtension
    static final TunnelFixture fixture = new TunnelFixture().upstream("a", "A");

    final WebSocketUpstream upstreamA = fixture.upstream("a");

    @ParameterizedTest
    @EnumSource(Container.class)
    void fragmentsStreamThroughInBothDirections(Container kind) throws Exception {
        BrowserSocket socket = fixture.open(kind, "a", "/echo", r -> { });
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
        BrowserSocket socket = fixture.open(kind, "a", "/echo", r -> { });
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
    void aMessageOverTheLimitClosesBothSidesWith1009(Container kind) throws Exception {
        long limit = 64L << 20; // the default
        // Browser to upstream. (The upstream only reads: Jetty drops the connection right after sending a
        // close code it deems abnormal, such as 1009, so a peer still sending would see a reset instead.)
        BrowserSocket socket = fixture.open(kind, "a", "/sink", r -> { }).countOnly();
        upstreamA.clearCloses();
        socket.session().sendBinary(ByteBuffer.allocate((int) limit + 1), Callback.NOOP);
        assertEquals(1009, socket.closed().get(30, TimeUnit.SECONDS).code());
        WebSocketUpstream.Closed closed = upstreamA.nextClose(WAIT);
        assertNotNull(closed);
        assertEquals(1009, closed.code());

        // Upstream to browser.
        socket = fixture.open(kind, "a", "/echo", r -> { }).countOnly();
        upstreamA.clearCloses();
        socket.session().sendText("!big " + (limit + 1), Callback.NOOP);
        assertEquals(1009, socket.closed().get(30, TimeUnit.SECONDS).code());
        closed = upstreamA.nextClose(WAIT);
        assertNotNull(closed);
        assertEquals(1009, closed.code());
        assertTrue(socket.binaryBytes() <= limit, "at most the limit reached the browser: " + socket.binaryBytes());
        fixture.awaitNoRelays(kind);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theEffectiveDefaultsAreForAnIdeNotJettys(Container kind) throws Exception {
        WebSocketTunnel tunnel = fixture.tunnel(kind);
        Set<LiveRelay> before = tunnel.relays().snapshot();
        BrowserSocket socket = fixture.open(kind, "a", "/echo", r -> { });
        Set<LiveRelay> after = new HashSet<>(tunnel.relays().snapshot());
        after.removeAll(before);
        assertEquals(1, after.size());
        assertEquals(Duration.ofHours(1), tunnel.settings().idleTimeout());
        assertEquals(Duration.ofSeconds(30), tunnel.settings().pingInterval());
        assertEquals(64L << 20, tunnel.settings().maxMessageSize());
        assertEquals(WebSocketMode.valueOf(TunnelFixture.MODE.toUpperCase(java.util.Locale.ROOT)), tunnel.settings().mode());
        if (!(after.iterator().next() instanceof Relay relay)) {
            // Passthrough (Tomcat by default): no WebSocket stack of its own to configure.
            assertTrue(after.iterator().next() instanceof ByteRelay);
            close(socket);
            return;
        }
        waitUntil(() -> relay.clientSession() != null, WAIT, "the browser side to open");
        Session upstream = relay.upstreamSession();
        assertEquals(Duration.ofHours(1), upstream.getIdleTimeout(), "not Jetty's 30 s");
        assertEquals(64L << 20, upstream.getMaxBinaryMessageSize());
        assertEquals(64L << 20, upstream.getMaxTextMessageSize());
        assertEquals(Duration.ofHours(1), tunnel.connector().client().getIdleTimeout());
        jakarta.websocket.Session browser = relay.clientSession();
        assertEquals(3_600_000L, browser.getMaxIdleTimeout(), "not the container's default");
        assertEquals(RelaySettings.CLIENT_CHUNK, browser.getMaxBinaryMessageBufferSize());
        assertEquals(3_600_000L, browser.getUserProperties().get(BrowserEndpoint.TOMCAT_BLOCKING_SEND_TIMEOUT));
        close(socket);
    }
}

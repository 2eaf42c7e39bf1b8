package dev.ideproxy.internal.websocket;

import static dev.ideproxy.internal.websocket.TunnelFixture.WAIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.internal.wire.UpstreamHandshake;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.WebSocketUpstream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

    @ParameterizedTest
    @EnumSource(Container.class)
    void anUpstreamThatBreaksTheFramingEndsTheSessionWith1011(Container kind) throws Exception {
        // A raw upstream: a valid 101, then a frame with a reserved opcode (3). Either relay must see
        // the broken stream and close the browser with 1011, never pass the frame on.
        try (ServerSocket raw = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread upstream = new Thread(() -> {
                try (Socket s = raw.accept()) {
                    String head = readHead(s.getInputStream());
                    Matcher key = Pattern.compile("(?im)^Sec-WebSocket-Key:\\s*(\\S+)").matcher(head);
                    if (!key.find()) {
                        return;
                    }
                    OutputStream out = s.getOutputStream();
                    out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + "Sec-WebSocket-Accept: " + UpstreamHandshake.accept(key.group(1)) + "\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.write(new byte[] {(byte) 0x83, 0x00});
                    out.flush();
                    s.getInputStream().read(new byte[1024]); // until the proxy closes
                } catch (IOException ignored) {
                    // The proxy dropped the connection.
                }
            });
            upstream.setDaemon(true);
            upstream.start();
            IdeProxyConfig config = IdeProxyConfig.builder()
                    .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                    .set(ConfigOption.WS_MODE, TunnelFixture.MODE)
                    .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                    .set(ConfigOption.TARGETS, "raw=http://127.0.0.1:" + raw.getLocalPort())
                    .build();
            try (Container.Running server = kind.start(TunnelFixture.CONTEXT, IdeProxy.builder(config).build())) {
                String cookie = new Browser(server).session("raw", "alice");
                BrowserSocket socket = fixture.open(server, "raw", "/", cookie, r -> { });
                BrowserSocket.Closed closed = socket.closed().get(20, TimeUnit.SECONDS);
                assertEquals(1011, closed.code(), closed.reason());
                assertNull(socket.nextMessage(java.time.Duration.ofMillis(100)), "nothing of the broken stream reached the browser");
            }
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.append((char) b);
        }
        return head.toString();
    }
}

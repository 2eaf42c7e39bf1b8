package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.WebSocketUpstream;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A WebSocket cannot outlive the session that opened it: at the session's maximum lifetime the
 * browser is closed with 1008 and the upstream with 1001, and a reconnect with the same cookie is
 * refused. (Access withdrawn means live connections end, as Gitpod does.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SessionExpiryTest {

    @ParameterizedTest
    @EnumSource(Container.class)
    void webSocketIsClosedWhenTheSessionReachesItsMaximumLifetime(Container kind) throws Exception {
        try (WebSocketUpstream upstream = new WebSocketUpstream("E")) {
            IdeProxy proxy = IdeProxy.builder(IdeProxyConfig.builder()
                    .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                    .set(ConfigOption.WS_MODE, TunnelFixture.MODE)
                    .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                    .set(ConfigOption.TARGETS, "e=" + upstream.uri())
                    .set(ConfigOption.SESSION_TTL, "3s")
                    .set(ConfigOption.SESSION_MAX_LIFETIME, "3s")
                    .build()).build();
            WebSocketClient client = new WebSocketClient();
            client.start();
            try (Container.Running server = kind.start("", proxy)) {
                String cookie = new Browser(server).session("e", "alice");
                long opened = System.nanoTime();
                BrowserSocket socket = connect(client, server, cookie);
                socket.session().sendText("still here", org.eclipse.jetty.websocket.api.Callback.NOOP);
                BrowserSocket.Message echo = socket.nextMessage(Duration.ofSeconds(5));
                assertNotNull(echo, "echo before expiry");
                assertEquals("E|still here", echo.text());

                BrowserSocket.Closed closed = socket.closed().get(15, TimeUnit.SECONDS);
                long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - opened);
                assertEquals(1008, closed.code(), closed.toString());
                assertEquals("session expired", closed.reason());
                assertTrue(seconds <= 6, "closed after " + seconds + " s");
                WebSocketUpstream.Closed upstreamClosed = upstream.nextClose(Duration.ofSeconds(5));
                assertNotNull(upstreamClosed, "the upstream was closed too");
                assertEquals(1001, upstreamClosed.code());

                int handshakes = upstream.handshakeCount();
                ExecutionException refused = assertThrows(ExecutionException.class, () -> java.net.http.HttpClient
                        .newHttpClient().newWebSocketBuilder().header("Cookie", cookie)
                        .buildAsync(URI.create("ws://" + server.hostHeader() + "/__ide/e/echo"), new java.net.http.WebSocket.Listener() { })
                        .get(10, TimeUnit.SECONDS));
                assertTrue(refused.getCause() instanceof java.net.http.WebSocketHandshakeException, String.valueOf(refused.getCause()));
                assertEquals(401, ((java.net.http.WebSocketHandshakeException) refused.getCause()).getResponse().statusCode());
                assertEquals(handshakes, upstream.handshakeCount(), "the expired session reached the upstream");
            } finally {
                client.stop();
            }
        }
    }

    private static BrowserSocket connect(WebSocketClient client, Container.Running server, String cookie) throws Exception {
        return BrowserSocket.open(client, server, "/__ide/e/echo", cookie);
    }
}

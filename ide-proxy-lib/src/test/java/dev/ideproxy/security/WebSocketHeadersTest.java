package dev.ideproxy.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.WebSocketUpstream;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The WebSocket handshake through the relay takes its headers from the same header policy as HTTP:
 * the portal's credentials, the proxy's cookie and a client's forwarding claims never reach the
 * workspace. Both containers; the browser side is a raw socket.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebSocketHeadersTest {
    static final String CONTEXT = "/portal";
    final Map<Container, Container.Running> servers = new EnumMap<>(Container.class);
    WebSocketUpstream upstream;

    @BeforeAll
    void start() throws Exception {
        upstream = new WebSocketUpstream("W");
        for (Container kind : Container.values()) {
            IdeProxyConfig config = IdeProxyConfig.builder()
                    .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                    .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                    .set(ConfigOption.TARGETS, "w=" + upstream.uri())
                    .build();
            servers.put(kind, kind.start(CONTEXT, IdeProxy.builder(config).build()));
        }
    }

    @AfterAll
    void stop() throws Exception {
        for (Container.Running running : servers.values()) {
            running.close();
        }
        upstream.close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void handshakeCarriesNoCredentialsNoProxyCookieAndNoSpoofedForwarding(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String cookie = new Browser(server).session("w", "alice");
        int before = upstream.handshakeCount();
        RawHttp.Response r = RawHttp.send("127.0.0.1", server.base().getPort(), "GET " + CONTEXT + "/__ide/w/socket?x=1 HTTP/1.1\r\n"
                + "Host: " + server.hostHeader() + "\r\n"
                + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + "Origin: http://" + server.hostHeader() + "\r\n"
                + "Cookie: theme=dark; " + cookie + "\r\n"
                + "Authorization: Basic cG9ydGFsOnNlY3JldA==\r\n"
                + "Proxy-Authorization: Basic cHJveHk6c2VjcmV0\r\n"
                + "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nForwarded: for=6.6.6.6\r\n"
                + "X-Real-IP: 6.6.6.6\r\n\r\n");
        assertEquals(101, r.status(), r.toString());
        assertEquals(before + 1, upstream.handshakeCount());
        WebSocketUpstream.Handshake seen = upstream.lastHandshake();
        assertEquals("/socket", seen.path());
        assertNull(seen.header("Authorization"), "the portal's Authorization never reaches the workspace");
        assertNull(seen.header("Proxy-Authorization"));
        assertEquals("theme=dark", seen.header("Cookie"), "the proxy's cookie is removed, the app's pass");
        assertEquals("127.0.0.1", seen.header("X-Forwarded-For"));
        assertEquals(server.hostHeader(), seen.header("X-Forwarded-Host"));
        assertNull(seen.header("Forwarded"));
        assertNull(seen.header("X-Real-IP"));
    }
}

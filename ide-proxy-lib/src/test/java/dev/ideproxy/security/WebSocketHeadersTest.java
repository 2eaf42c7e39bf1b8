package dev.ideproxy.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.RawRequest;
import dev.ideproxy.testing.WebSocketUpstream;
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
    Containers servers;
    WebSocketUpstream upstream;

    @BeforeAll
    void start() throws Exception {
        upstream = new WebSocketUpstream("W");
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "w=" + upstream.uri())
                .build();
        servers = Containers.start(CONTEXT, kind -> IdeProxy.builder(config).build());
    }

    @AfterAll
    void stop() throws Exception {
        servers.close();
        upstream.close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void handshakeCarriesNoCredentialsNoProxyCookieAndNoSpoofedForwarding(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String cookie = new Browser(server).session("w", "alice");
        int before = upstream.handshakeCount();
        RawHttp.Response r = RawRequest.get(CONTEXT + "/__ide/w/socket?x=1").webSocket()
                .header("Origin", "http://" + server.hostHeader())
                .cookie("theme=dark; " + cookie)
                .header("Authorization", "Basic cG9ydGFsOnNlY3JldA==")
                .header("Proxy-Authorization", "Basic cHJveHk6c2VjcmV0")
                .header("X-Forwarded-For", "6.6.6.6").header("X-Forwarded-Host", "evil.example").header("Forwarded", "for=6.6.6.6")
                .header("X-Real-IP", "6.6.6.6")
                .send(server);
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

package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Closer;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Http2Browser;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import jakarta.servlet.ServletContext;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The container serving browsers over HTTPS itself (no TLS terminator in front), on both containers,
 * with HTTP/2 and HTTP/1.1 offered by ALPN as a production connector does: the session cookie is
 * {@code Secure}, the upstream hears that the browser used HTTPS, and WebSockets (over HTTP/1.1, as
 * browsers open them to Tomcat, and as they may to Jetty) are relayed as bytes through the TLS
 * connection; on Jetty, a WebSocket over HTTP/2 (RFC 8441) as messages.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsBrowserTest {
    static final String CONTEXT = "/portal";

    final Closer closer = new Closer();
    final Map<Container, Container.Running> servers = new EnumMap<>(Container.class);
    final Map<Container, ServletContext> contexts = new EnumMap<>(Container.class);
    Upstream upstream;
    WebSocketUpstream socketUpstream;
    Http2Browser browser;

    @BeforeAll
    void start() throws Exception {
        upstream = closer.add(new Upstream("A"));
        socketUpstream = closer.add(new WebSocketUpstream("W"));
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstream.uri() + ",w=" + socketUpstream.uri())
                .set(ConfigOption.WS_MODE, "auto")
                .build();
        for (Container kind : Container.values()) {
            IdeProxy proxy = IdeProxy.builder(config).build();
            servers.put(kind, closer.add(kind.start(Container.Install.INITIALIZER, Container.Protocols.HTTPS, CONTEXT,
                    context -> {
                        proxy.install(context);
                        contexts.put(kind, context);
                    })));
        }
        browser = closer.add(new Http2Browser());
    }

    @AfterAll
    void stop() throws Exception {
        closer.close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theSessionCookieIsSecureAndTheUpstreamHearsHttps(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String setCookie = browser.bootstrap(server, "a");
        assertTrue(setCookie.contains("; Secure"), setCookie);
        assertTrue(setCookie.contains("; HttpOnly"), setCookie);
        String cookie = Http2Browser.cookie(setCookie);
        ContentResponse page = Http2Browser.send(browser.request(server.uri("/__ide/a/hello"))
                .headers(h -> h.put("Cookie", cookie)));
        assertEquals(HttpVersion.HTTP_2, page.getVersion(), "ALPN chose HTTP/2");
        assertEquals(200, page.getStatus(), page.getContentAsString());
        Upstream.Seen seen = upstream.last();
        assertEquals("https", seen.header("X-Forwarded-Proto"));
        assertEquals(server.hostHeader(), seen.header("Host"));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aWebSocketOverHttpsIsRelayedAsBytes(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        BrowserSocket socket = openRelay(kind, browser.socketsOverHttp11(), 101, ByteRelay.class);
        try {
            assertEquals("W|over tls", socket.roundTrip("over tls"));
            byte[] big = new byte[3 << 20];
            new Random(14).nextBytes(big);
            assertArrayEquals(big, socket.roundTrip(big, Duration.ofSeconds(20)));
            assertEquals("https://" + server.hostHeader(), socketUpstream.lastHandshake().header("Origin"));
        } finally {
            socket.session().close();
        }
    }

    @Test
    void aWebSocketOverHttp2WithTlsIsRelayedAsMessagesOnJetty() throws Exception {
        BrowserSocket socket = openRelay(Container.JETTY, browser.socketsOverHttp2(), 200, Relay.class);
        try {
            assertEquals("W|over h2", socket.roundTrip("over h2"));
        } finally {
            socket.session().close();
        }
    }

    /**
     * Opens a WebSocket to workspace w with {@code client}; asserts the handshake's status (101 over
     * HTTP/1.1, 200 over HTTP/2) and that the one relay it added is a {@code relay}.
     */
    private BrowserSocket openRelay(Container kind, WebSocketClient client, int status, Class<? extends LiveRelay> relay)
            throws Exception {
        Container.Running server = servers.get(kind);
        String cookie = browser.session(server, "w");
        WebSocketTunnel tunnel = WebSocketTunnel.of(contexts.get(kind));
        Set<LiveRelay> before = tunnel.relays().snapshot();
        BrowserSocket socket = Http2Browser.open(client, server, "/__ide/w/term", cookie);
        assertEquals(status, socket.session().getUpgradeResponse().getStatusCode());
        Set<LiveRelay> opened = new HashSet<>(tunnel.relays().snapshot());
        opened.removeAll(before);
        assertEquals(1, opened.size());
        assertInstanceOf(relay, opened.iterator().next());
        return socket;
    }
}

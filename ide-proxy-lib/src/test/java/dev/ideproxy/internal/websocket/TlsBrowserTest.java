package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Closer;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.TestCertificate;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import jakarta.servlet.ServletContext;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
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
    static final ObjectMapper JSON = new ObjectMapper();

    final Closer closer = new Closer();
    final Map<Container, Container.Running> servers = new EnumMap<>(Container.class);
    final Map<Container, ServletContext> contexts = new EnumMap<>(Container.class);
    Upstream upstream;
    WebSocketUpstream socketUpstream;
    /** The browser's HTTP/2 (over TLS, by ALPN) and its WebSockets over HTTP/2. */
    HttpClient http2;
    WebSocketClient socketsOverHttp2;
    /** The browser's WebSockets over HTTP/1.1 (over TLS). */
    WebSocketClient sockets;

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
        ClientConnector h2Connector = new ClientConnector();
        h2Connector.setSslContextFactory(TestCertificate.client());
        http2 = new HttpClient(new HttpClientTransportOverHTTP2(new HTTP2Client(h2Connector)));
        http2.setFollowRedirects(false);
        http2.setHttpCookieStore(new HttpCookieStore.Empty());
        http2.start();
        closer.add(http2::stop);
        socketsOverHttp2 = new WebSocketClient(http2);
        socketsOverHttp2.start();
        closer.add(socketsOverHttp2::stop);
        ClientConnector h1Connector = new ClientConnector();
        h1Connector.setSslContextFactory(TestCertificate.client());
        HttpClient http11 = new HttpClient(new HttpClientTransportOverHTTP(h1Connector));
        http11.setHttpCookieStore(new HttpCookieStore.Empty());
        sockets = new WebSocketClient(http11);
        sockets.start();
        closer.add(sockets::stop);
    }

    @AfterAll
    void stop() throws Exception {
        closer.close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theSessionCookieIsSecureAndTheUpstreamHearsHttps(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String setCookie = bootstrap(server, "a");
        assertTrue(setCookie.contains("; Secure"), setCookie);
        assertTrue(setCookie.contains("; HttpOnly"), setCookie);
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));
        ContentResponse page = send(http2.newRequest(server.uri("/__ide/a/hello")).headers(h -> h.put("Cookie", cookie)));
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
        String setCookie = bootstrap(server, "w");
        WebSocketTunnel tunnel = WebSocketTunnel.of(contexts.get(kind));
        Set<LiveRelay> before = tunnel.relays().snapshot();
        BrowserSocket socket = open(sockets, server, setCookie.substring(0, setCookie.indexOf(';')));
        try {
            assertEquals(101, socket.session().getUpgradeResponse().getStatusCode(), "an HTTP/1.1 upgrade");
            Set<LiveRelay> opened = new HashSet<>(tunnel.relays().snapshot());
            opened.removeAll(before);
            assertEquals(1, opened.size());
            assertInstanceOf(ByteRelay.class, opened.iterator().next(), "the passthrough, through TLS");
            socket.session().sendText("over tls", Callback.NOOP);
            BrowserSocket.Message reply = socket.nextMessage(Duration.ofSeconds(10));
            assertNotNull(reply, "no reply through the relay");
            assertEquals("W|over tls", reply.text());
            byte[] big = new byte[3 << 20];
            new Random(14).nextBytes(big);
            socket.session().sendBinary(ByteBuffer.wrap(big), Callback.NOOP);
            BrowserSocket.Message echo = socket.nextMessage(Duration.ofSeconds(20));
            assertNotNull(echo, "no echo of 3 MiB");
            assertArrayEquals(big, echo.binary());
            assertEquals("https://" + server.hostHeader(), socketUpstream.lastHandshake().header("Origin"));
        } finally {
            socket.session().close();
        }
    }

    @Test
    void aWebSocketOverHttp2WithTlsIsRelayedAsMessagesOnJetty() throws Exception {
        Container.Running server = servers.get(Container.JETTY);
        String setCookie = bootstrap(server, "w");
        WebSocketTunnel tunnel = WebSocketTunnel.of(contexts.get(Container.JETTY));
        Set<LiveRelay> before = tunnel.relays().snapshot();
        BrowserSocket socket = open(socketsOverHttp2, server, setCookie.substring(0, setCookie.indexOf(';')));
        try {
            assertEquals(200, socket.session().getUpgradeResponse().getStatusCode(), "RFC 8441 answers 200");
            Set<LiveRelay> opened = new HashSet<>(tunnel.relays().snapshot());
            opened.removeAll(before);
            assertEquals(1, opened.size());
            assertInstanceOf(Relay.class, opened.iterator().next(), "a stream has no connection to take over");
            socket.session().sendText("over h2", Callback.NOOP);
            BrowserSocket.Message reply = socket.nextMessage(Duration.ofSeconds(10));
            assertNotNull(reply, "no reply through the relay");
            assertEquals("W|over h2", reply.text());
        } finally {
            socket.session().close();
        }
    }

    private static BrowserSocket open(WebSocketClient client, Container.Running server, String cookie) throws Exception {
        BrowserSocket socket = new BrowserSocket();
        ClientUpgradeRequest upgrade = new ClientUpgradeRequest();
        upgrade.setHeader("Cookie", cookie);
        upgrade.setHeader("Origin", "https://" + server.hostHeader());
        client.connect(socket, URI.create("wss://" + server.hostHeader() + CONTEXT + "/__ide/w/term"), upgrade)
                .get(10, TimeUnit.SECONDS);
        return socket;
    }

    /** Mints for alice with the portal's bearer JWT and opens the bootstrap link, over HTTPS; the Set-Cookie. */
    private String bootstrap(Container.Running server, String workspace) throws Exception {
        ContentResponse minted = send(http2.newRequest(server.uri("/api/dev/" + workspace + "/ide-token"))
                .method(HttpMethod.POST)
                .headers(h -> h.put("Authorization", "Bearer " + Portal.bearer("alice", workspace))));
        assertEquals(200, minted.getStatus(), minted.getContentAsString());
        String link = JSON.readTree(minted.getContentAsString()).get("bootstrapUrl").asText();
        ContentResponse bootstrap = send(http2.newRequest(URI.create("https://" + server.hostHeader() + link)));
        assertEquals(303, bootstrap.getStatus(), bootstrap.getContentAsString());
        String setCookie = bootstrap.getHeaders().get("Set-Cookie");
        assertTrue(setCookie != null && setCookie.startsWith("ide_proxy_session="), String.valueOf(setCookie));
        return setCookie;
    }

    private static ContentResponse send(Request request) throws Exception {
        return request.timeout(20, TimeUnit.SECONDS).send();
    }
}

package dev.ideproxy.internal.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Closer;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RefusingPort;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The owner's flow with a browser that speaks HTTP/2 to the container, as browsers do wherever the
 * container serves HTTPS with HTTP/2 enabled: both containers with cleartext HTTP/2 (h2c) beside HTTP/1.1,
 * and Jetty's HTTP/2 client as the browser. HTTP/2 carries the browser's Host as {@code :authority} and
 * has no connection to hand over, so the browser-facing host, the redirect mapping and the WebSocket
 * upgrade (Jetty advertises WebSockets over HTTP/2, RFC 8441, and browsers use them) are checked here.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Http2BrowserTest {
    static final String CONTEXT = "/portal";
    static final ObjectMapper JSON = new ObjectMapper();

    final Closer closer = new Closer();
    final Map<Container, Container.Running> servers = new EnumMap<>(Container.class);
    /** The same, in host mode ({@code workspace.origin=http://{id}.ide.test}). */
    final Map<Container, Container.Running> hostMode = new EnumMap<>(Container.class);
    Upstream upstream;
    WebSocketUpstream socketUpstream;
    RefusingPort refusing;
    HttpClient http2;
    WebSocketClient sockets;

    @BeforeAll
    void start() throws Exception {
        upstream = closer.add(new Upstream("A"));
        socketUpstream = closer.add(new WebSocketUpstream("W"));
        refusing = closer.add(new RefusingPort());
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstream.uri() + ",w=" + socketUpstream.uri()
                        + ",down=http://127.0.0.1:" + refusing.port())
                .build();
        IdeProxyConfig hosts = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstream.uri() + ",b=" + upstream.uri())
                .set(ConfigOption.WORKSPACE_ORIGIN, "http://{id}.ide.test")
                .build();
        for (Container kind : Container.values()) {
            IdeProxy proxy = IdeProxy.builder(config).build();
            servers.put(kind, closer.add(kind.start(Container.Install.INITIALIZER, Container.Protocols.HTTP_2_CLEARTEXT,
                    CONTEXT, proxy::install)));
            IdeProxy perHost = IdeProxy.builder(hosts).build();
            hostMode.put(kind, closer.add(kind.start(Container.Install.INITIALIZER, Container.Protocols.HTTP_2_CLEARTEXT,
                    "", perHost::install)));
        }
        // Only HTTP/2, by prior knowledge: a request that fell back to HTTP/1.1 could not be sent at all.
        http2 = new HttpClient(new HttpClientTransportOverHTTP2(new HTTP2Client()));
        // Every host name is the loopback address, as a wildcard DNS entry for *.ide.test would make it.
        http2.setSocketAddressResolver((host, port, context, promise) ->
                promise.succeeded(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))));
        http2.setFollowRedirects(false);
        // Cookies only where a case sends them, as the JDK's client in the other tests does.
        http2.setHttpCookieStore(new HttpCookieStore.Empty());
        http2.start();
        // A 401 reaches the case as it reaches a browser (Jetty's authentication handler insists on a challenge).
        http2.getProtocolHandlers().clear();
        closer.add(http2::stop);
        sockets = new WebSocketClient(http2);
        sockets.start();
        closer.add(sockets::stop);
    }

    @AfterAll
    void stop() throws Exception {
        closer.close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void proxiedGetKeepsTheBrowserFacingHostGivenAsAuthority(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String session = session(server, "a");
        ContentResponse response = send(http2.newRequest(server.uri("/__ide/a/some/path?q=1"))
                .headers(h -> h.put("Cookie", session)));
        assertEquals(HttpVersion.HTTP_2, response.getVersion());
        assertEquals(200, response.getStatus(), response.getContentAsString());
        assertEquals("A GET /some/path?q=1", response.getContentAsString());
        Upstream.Seen seen = upstream.last();
        assertEquals(server.hostHeader(), seen.header("Host"), "browser-facing Host kept");
        assertEquals(server.hostHeader(), seen.header("X-Forwarded-Host"));
        assertNull(seen.header("Origin"), "no Origin invented when the browser sent none");
        assertNull(seen.header("Cookie"), "the proxy's cookie is not sent upstream");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void redirectsToTheBrowserFacingHostAreMappedIntoTheTunnel(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String session = session(server, "a");
        String to = URLEncoder.encode("http://" + server.hostHeader() + "/x/y", StandardCharsets.UTF_8);
        ContentResponse response = send(http2.newRequest(server.uri("/__ide/a/redirect?to=" + to))
                .headers(h -> h.put("Cookie", session)));
        assertEquals(HttpVersion.HTTP_2, response.getVersion());
        assertEquals(302, response.getStatus());
        assertEquals(CONTEXT + "/__ide/a/x/y", response.getHeaders().get("Location"));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void postBodyAndOriginReachTheUpstream(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String session = session(server, "a");
        String origin = "http://" + server.hostHeader();
        byte[] body = "x".repeat(300_000).getBytes(StandardCharsets.UTF_8);
        ContentResponse response = send(http2.newRequest(server.uri("/__ide/a/count"))
                .method(HttpMethod.POST)
                .headers(h -> h.put("Cookie", session).put("Origin", origin))
                .body(new BytesRequestContent("text/plain", body)));
        assertEquals(HttpVersion.HTTP_2, response.getVersion());
        assertEquals(200, response.getStatus(), response.getContentAsString());
        assertEquals("300000", response.getContentAsString());
        assertEquals(origin, upstream.last().header("Origin"));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void requestWithoutSessionIsRefusedWithoutContactingTheUpstream(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        int before = upstream.seen().size();
        ContentResponse response = send(http2.newRequest(server.uri("/__ide/a/secret")));
        assertEquals(HttpVersion.HTTP_2, response.getVersion());
        assertEquals(401, response.getStatus());
        assertEquals(before, upstream.seen().size());
    }

    /**
     * The page for an unreachable workspace goes out over HTTP/2 too: the {@code Connection: close} it
     * asks for on HTTP/1.1 is a header HTTP/2 forbids, and must not break the stream.
     */
    @ParameterizedTest
    @EnumSource(Container.class)
    void anUnreachableWorkspaceIsAnsweredWithItsPage(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String session = session(server, "down");
        ContentResponse response = send(http2.newRequest(server.uri("/__ide/down/"))
                .headers(h -> h.put("Cookie", session).put("Accept", "text/html")));
        assertEquals(HttpVersion.HTTP_2, response.getVersion());
        assertEquals(502, response.getStatus(), response.getContentAsString());
        assertTrue(response.getContentAsString().contains("down"), response.getContentAsString());
        assertNull(response.getHeaders().get("Connection"));
    }

    /**
     * Host mode reads the workspace from the host the browser addressed, which HTTP/2 carries as
     * {@code :authority}: the tunnel answers on the workspace's own host and nowhere else.
     */
    @ParameterizedTest
    @EnumSource(Container.class)
    void hostModeReadsTheWorkspaceFromTheAuthority(Container kind) throws Exception {
        Container.Running server = hostMode.get(kind);
        int port = server.base().getPort();
        ContentResponse minted = mint(server, "a");
        String link = JSON.readTree(minted.getContentAsString()).get("bootstrapUrl").asText();
        assertTrue(link.startsWith("http://a.ide.test/api/dev/a/ide?token="), link);
        ContentResponse bootstrap = send(http2.newRequest(URI.create(link.replace("a.ide.test/", "a.ide.test:" + port + "/"))));
        assertEquals(HttpVersion.HTTP_2, bootstrap.getVersion());
        assertEquals(303, bootstrap.getStatus(), bootstrap.getContentAsString());
        String setCookie = bootstrap.getHeaders().get("Set-Cookie");
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));

        ContentResponse page = send(http2.newRequest(URI.create("http://a.ide.test:" + port + "/__ide/a/hello"))
                .headers(h -> h.put("Cookie", cookie)));
        assertEquals(200, page.getStatus(), page.getContentAsString());
        assertEquals("a.ide.test:" + port, upstream.last().header("Host"), "the browser's host reaches the upstream");

        int seen = upstream.seen().size();
        ContentResponse elsewhere = send(http2.newRequest(URI.create("http://b.ide.test:" + port + "/__ide/a/hello"))
                .headers(h -> h.put("Cookie", cookie)));
        assertEquals(404, elsewhere.getStatus(), elsewhere.getContentAsString());
        assertEquals(seen, upstream.seen().size(), "a request on another host reached the upstream");
    }

    /**
     * Jetty advertises WebSockets over HTTP/2 (RFC 8441), so a browser opens the IDE's WebSocket as a
     * CONNECT stream on its HTTP/2 connection. There is no connection to hand over: the proxy relays
     * messages, to the upstream resolved for the request, with the browser's Origin. (Tomcat 11 does
     * not advertise it, so browsers open WebSockets to Tomcat over HTTP/1.1, as every other test does.)
     */
    @Test
    void webSocketOverHttp2IsRelayedToTheResolvedUpstream() throws Exception {
        Container.Running server = servers.get(Container.JETTY);
        String session = session(server, "w");
        BrowserSocket socket = new BrowserSocket();
        ClientUpgradeRequest upgrade = new ClientUpgradeRequest();
        upgrade.setHeader("Cookie", session);
        upgrade.setHeader("Origin", "http://" + server.hostHeader());
        sockets.connect(socket, URI.create("ws://" + server.hostHeader() + CONTEXT + "/__ide/w/term?n=1"), upgrade)
                .get(10, TimeUnit.SECONDS);
        try {
            assertEquals(200, socket.session().getUpgradeResponse().getStatusCode(), "RFC 8441 answers 200, not 101");
            socket.session().sendText("hello", org.eclipse.jetty.websocket.api.Callback.NOOP);
            BrowserSocket.Message reply = socket.nextMessage(Duration.ofSeconds(10));
            assertNotNull(reply, "no reply through the relay");
            assertEquals("W|hello", reply.text());
            WebSocketUpstream.Handshake handshake = socketUpstream.lastHandshake();
            assertEquals("/term", handshake.path());
            assertEquals(server.hostHeader(), handshake.header("Host"));
            assertEquals("http://" + server.hostHeader(), handshake.header("Origin"));
        } finally {
            socket.session().close();
        }
    }

    /**
     * The diagnostics page's echo WebSocket, which tells a user whether WebSockets get through, opens over
     * HTTP/2 as the IDE's do (a refusal there would report WebSockets as blocked when they work).
     */
    @Test
    void theDiagnosticEchoOpensOverHttp2() throws Exception {
        Container.Running server = servers.get(Container.JETTY);
        String session = session(server, "a");
        BrowserSocket socket = new BrowserSocket();
        ClientUpgradeRequest upgrade = new ClientUpgradeRequest();
        upgrade.setHeader("Cookie", session);
        upgrade.setHeader("Origin", "http://" + server.hostHeader());
        sockets.connect(socket, URI.create("ws://" + server.hostHeader() + CONTEXT + "/__ide/a/.ide-proxy/diagnose/echo"),
                upgrade).get(10, TimeUnit.SECONDS);
        assertEquals(200, socket.session().getUpgradeResponse().getStatusCode(), "RFC 8441 answers 200, not 101");
        socket.session().sendText("echo over h2", org.eclipse.jetty.websocket.api.Callback.NOOP);
        BrowserSocket.Message echo = socket.nextMessage(Duration.ofSeconds(10));
        assertNotNull(echo, "no echo");
        assertEquals("echo over h2", echo.text());
    }

    /** Mint with the portal's bearer JWT, then bootstrap, both over HTTP/2; the session cookie's {@code name=value}. */
    private String session(Container.Running server, String workspace) throws Exception {
        ContentResponse minted = mint(server, workspace);
        String link = JSON.readTree(minted.getContentAsString()).get("bootstrapUrl").asText();
        ContentResponse bootstrap = send(http2.newRequest(URI.create("http://" + server.hostHeader() + link)));
        assertEquals(303, bootstrap.getStatus(), bootstrap.getContentAsString());
        String setCookie = bootstrap.getHeaders().get("Set-Cookie");
        assertTrue(setCookie != null && setCookie.startsWith("ide_proxy_session="), String.valueOf(setCookie));
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    /** Mints a token for alice with the portal's bearer JWT, over HTTP/2. */
    private ContentResponse mint(Container.Running server, String workspace) throws Exception {
        ContentResponse minted = send(http2.newRequest(server.uri("/api/dev/" + workspace + "/ide-token"))
                .method(HttpMethod.POST)
                .headers(h -> h.put("Authorization", "Bearer " + Portal.bearer("alice", workspace))));
        assertEquals(HttpVersion.HTTP_2, minted.getVersion());
        assertEquals(200, minted.getStatus(), minted.getContentAsString());
        return minted;
    }

    private static ContentResponse send(Request request) throws Exception {
        return request.timeout(20, TimeUnit.SECONDS).send();
    }
}

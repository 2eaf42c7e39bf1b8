package dev.ideproxy.internal.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Closer;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Http2Browser;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RefusingPort;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpVersion;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The owner's flow with a browser that speaks HTTP/2 to the container, as browsers do wherever the
 * container serves HTTPS with HTTP/2 enabled: both containers with cleartext HTTP/2 (h2c) beside HTTP/1.1,
 * and an {@link Http2Browser} that speaks only HTTP/2 (a request that fell back to HTTP/1.1 could not be
 * sent at all). HTTP/2 carries the browser's Host as {@code :authority} and has no connection to hand
 * over, so the browser-facing host, the redirect mapping, host mode and the WebSocket upgrade (Jetty
 * offers WebSockets over HTTP/2, RFC 8441, and browsers use them) are checked here. TlsBrowserTest does
 * the same over HTTPS.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class Http2BrowserTest {
    static final String CONTEXT = "/portal";

    final Closer closer = new Closer();
    final Map<Container, Container.Running> servers = new EnumMap<>(Container.class);
    /** The same, in host mode ({@code workspace.origin=http://{id}.ide.test}). */
    final Map<Container, Container.Running> hostMode = new EnumMap<>(Container.class);
    Upstream upstream;
    WebSocketUpstream socketUpstream;
    RefusingPort refusing;
    Http2Browser browser;

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
        browser = closer.add(new Http2Browser());
    }

    @AfterAll
    void stop() throws Exception {
        closer.close();
    }

    /** GET {@code path} (under the context) on {@code server} with {@code cookie}; asserts HTTP/2. */
    private ContentResponse get(Container.Running server, String path, String cookie) throws Exception {
        ContentResponse response = Http2Browser.send(browser.request(server.uri(path))
                .headers(h -> {
                    if (cookie != null) {
                        h.put("Cookie", cookie);
                    }
                }));
        assertEquals(HttpVersion.HTTP_2, response.getVersion());
        return response;
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void proxiedGetKeepsTheBrowserFacingHostGivenAsAuthority(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        ContentResponse response = get(server, "/__ide/a/some/path?q=1", browser.session(server, "a"));
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
        String to = URLEncoder.encode("http://" + server.hostHeader() + "/x/y", StandardCharsets.UTF_8);
        ContentResponse response = get(server, "/__ide/a/redirect?to=" + to, browser.session(server, "a"));
        assertEquals(302, response.getStatus());
        assertEquals(CONTEXT + "/__ide/a/x/y", response.getHeaders().get("Location"));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void postBodyAndOriginReachTheUpstream(Container kind) throws Exception {
        Container.Running server = servers.get(kind);
        String session = browser.session(server, "a");
        String origin = "http://" + server.hostHeader();
        byte[] body = "x".repeat(300_000).getBytes(StandardCharsets.UTF_8);
        ContentResponse response = Http2Browser.send(browser.request(server.uri("/__ide/a/count"))
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
        int before = upstream.seen().size();
        // Jetty's client, like any strict one, rejects a 401 without a challenge (RFC 9110, 11.6.1).
        ContentResponse refused = get(servers.get(kind), "/__ide/a/secret", null);
        assertEquals(401, refused.getStatus());
        assertEquals("Cookie realm=\"ide-proxy\"", refused.getHeaders().get("WWW-Authenticate"));
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
        String session = browser.session(server, "down");
        ContentResponse response = Http2Browser.send(browser.request(server.uri("/__ide/down/"))
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
        String link = Http2Browser.bootstrapUrl(browser.mint(server, "a"));
        assertTrue(link.startsWith("http://a.ide.test/api/dev/a/ide?token="), link);
        ContentResponse bootstrap = Http2Browser.send(browser.request(
                URI.create(link.replace("a.ide.test/", "a.ide.test:" + port + "/"))));
        assertEquals(HttpVersion.HTTP_2, bootstrap.getVersion());
        assertEquals(303, bootstrap.getStatus(), bootstrap.getContentAsString());
        String cookie = Http2Browser.cookie(bootstrap.getHeaders().get("Set-Cookie"));

        ContentResponse page = Http2Browser.send(browser.request(URI.create("http://a.ide.test:" + port + "/__ide/a/hello"))
                .headers(h -> h.put("Cookie", cookie)));
        assertEquals(200, page.getStatus(), page.getContentAsString());
        assertEquals("a.ide.test:" + port, upstream.last().header("Host"), "the browser's host reaches the upstream");

        int seen = upstream.seen().size();
        ContentResponse elsewhere = Http2Browser.send(browser.request(URI.create("http://b.ide.test:" + port + "/__ide/a/hello"))
                .headers(h -> h.put("Cookie", cookie)));
        assertEquals(404, elsewhere.getStatus(), elsewhere.getContentAsString());
        assertEquals(seen, upstream.seen().size(), "a request on another host reached the upstream");
    }

    /**
     * Jetty offers WebSockets over HTTP/2 (RFC 8441), so a browser opens the IDE's WebSocket as a CONNECT
     * stream on its HTTP/2 connection. There is no connection to hand over: the proxy relays messages, to
     * the upstream resolved for the request, with the browser's host and Origin. (Tomcat 11 does not offer
     * it, so browsers open WebSockets to Tomcat over HTTP/1.1, as every other test does.)
     */
    @Test
    void webSocketOverHttp2IsRelayedToTheResolvedUpstream() throws Exception {
        Container.Running server = servers.get(Container.JETTY);
        BrowserSocket socket = Http2Browser.open(browser.socketsOverHttp2(), server, "/__ide/w/term?n=1",
                browser.session(server, "w"));
        try {
            assertEquals(200, socket.session().getUpgradeResponse().getStatusCode(), "RFC 8441 answers 200, not 101");
            assertEquals("W|hello", socket.roundTrip("hello"));
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
        BrowserSocket socket = Http2Browser.open(browser.socketsOverHttp2(), server, "/__ide/a/.ide-proxy/diagnose/echo",
                browser.session(server, "a"));
        assertEquals(200, socket.session().getUpgradeResponse().getStatusCode(), "RFC 8441 answers 200, not 101");
        assertEquals("echo over h2", socket.roundTrip("echo over h2"));
    }
}

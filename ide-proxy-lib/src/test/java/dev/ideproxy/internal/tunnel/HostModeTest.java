package dev.ideproxy.internal.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.RawRequest;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Host mode ({@code workspace.origin=http://{id}.ide.test}): each workspace answers only on its own
 * host, so its cookie is host-only there and its pages are cross-origin to every other workspace. The
 * requests carry the host names in their Host header and go to the loopback port, as a wildcard DNS
 * entry would send them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostModeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private Containers servers;
    private Upstream upstream;
    private WebSocketUpstream wsUpstream;
    private WebSocketClient client;

    @BeforeAll
    void start() throws Exception {
        upstream = new Upstream("H");
        wsUpstream = new WebSocketUpstream("W");
        servers = Containers.start("", kind -> IdeProxy.builder(IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstream.uri() + ",b=" + upstream.uri() + ",Up=" + upstream.uri()
                        + ",w=" + wsUpstream.uri())
                .set(ConfigOption.WORKSPACE_ORIGIN, "http://{id}.ide.test")
                .build()).build());
        client = new WebSocketClient();
        client.start();
    }

    @AfterAll
    void stop() throws Exception {
        client.stop();
        servers.close();
        upstream.close();
        wsUpstream.close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theMintAnswersABootstrapLinkOnTheWorkspacesOwnOrigin(Container kind) throws Exception {
        String url = bootstrapUrl(kind, "a");
        assertTrue(url.startsWith("http://a.ide.test/api/dev/a/ide?token="), url);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theBootstrapSetsAHostOnlyCookieOnTheWorkspacesHostOnly(Container kind) throws Exception {
        String path = pathOf(bootstrapUrl(kind, "a"));
        for (String wrongHost : new String[] {"b.ide.test", "ide.test", "a.ide.test.evil.example", "127.0.0.1"}) {
            RawHttp.Response refused = get(kind, wrongHost, path, null);
            assertEquals(404, refused.status(), wrongHost + ": " + refused);
            assertNull(refused.header("Set-Cookie"), wrongHost);
            assertTrue(refused.body().contains("not the address of workspace a"), refused.body());
        }
        RawHttp.Response bootstrap = get(kind, "a.ide.test", path, null);
        assertEquals(303, bootstrap.status(), "the token was used up by a refused request: " + bootstrap);
        String cookie = bootstrap.header("Set-Cookie");
        assertTrue(cookie.contains("Path=/__ide/a/") && cookie.contains("HttpOnly"), cookie);
        assertTrue(!cookie.toLowerCase().contains("domain="), "a host-only cookie has no Domain: " + cookie);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theTunnelAnswersOnlyOnTheWorkspacesOwnHost(Container kind) throws Exception {
        String cookie = session(kind, "a");
        RawHttp.Response page = get(kind, "a.ide.test", "/__ide/a/hello", cookie);
        assertEquals(200, page.status(), page.toString());
        assertEquals("a.ide.test:" + port(kind), upstream.last().header("host"), "the browser's Host reaches the upstream");
        assertEquals(200, get(kind, "A.IDE.TEST", "/__ide/a/hello", cookie).status(), "host names are case-insensitive");

        int seen = upstream.seen().size();
        for (String wrongHost : new String[] {"b.ide.test", "127.0.0.1", "a.ide.test.evil.example", "x.a.ide.test"}) {
            RawHttp.Response refused = get(kind, wrongHost, "/__ide/a/hello", cookie);
            assertEquals(404, refused.status(), wrongHost + ": " + refused);
        }
        RawHttp.Response forwarded = RawRequest.get("/__ide/a/hello").host("b.ide.test:" + port(kind))
                .header("X-Forwarded-Host", "a.ide.test").header("Forwarded", "host=a.ide.test").cookie(cookie)
                .send(servers.get(kind));
        assertEquals(404, forwarded.status(), "a forwarded host does not stand in for the Host header: " + forwarded);
        assertEquals(seen, upstream.seen().size(), "a request on another host reached the upstream");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aWebSocketOpensOnTheWorkspacesHostAndNowhereElse(Container kind) throws Exception {
        String cookie = session(kind, "w");
        String host = "w.ide.test:" + port(kind);
        BrowserSocket socket = new BrowserSocket();
        ClientUpgradeRequest upgrade = new ClientUpgradeRequest();
        upgrade.setHeader("Host", host);
        upgrade.setHeader("Origin", "http://" + host);
        upgrade.setHeader("Cookie", cookie);
        client.connect(socket, URI.create("ws://127.0.0.1:" + port(kind) + "/__ide/w/echo"), upgrade)
                .get(10, TimeUnit.SECONDS);
        socket.session().sendText("over its own origin", Callback.NOOP);
        BrowserSocket.Message echo = socket.nextMessage(Duration.ofSeconds(10));
        assertNotNull(echo);
        assertEquals("W|over its own origin", echo.text());
        assertEquals(host, wsUpstream.lastHandshake().header("host"));
        socket.session().close();

        int handshakes = wsUpstream.handshakeCount();
        RawHttp.Response refused = RawRequest.get("/__ide/w/echo").host("a.ide.test:" + port(kind))
                .header("Origin", "http://a.ide.test:" + port(kind)).cookie(cookie).webSocket().header("Connection", "close")
                .send(servers.get(kind));
        assertEquals(404, refused.status(), refused.toString());
        assertEquals(handshakes, wsUpstream.handshakeCount(), "the upgrade on another host reached the upstream");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void anIdThatCannotBeAHostNameIsRefusedAtTheMint(Container kind) throws Exception {
        HttpResponse<String> minted = new Browser(servers.get(kind)).mint("Up", "Bearer " + Portal.bearer("alice", "Up"));
        assertEquals(404, minted.statusCode(), minted.body());
        assertTrue(minted.body().contains("lower-case"), minted.body());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theDiagnosticsPageAndItsEchoAnswerOnTheWorkspacesOwnHostOnly(Container kind) throws Exception {
        String cookie = session(kind, "a");
        String page = "/__ide/a/.ide-proxy/diagnose";
        assertEquals(200, get(kind, "a.ide.test", page, null).status());
        RawHttp.Response info = get(kind, "a.ide.test", page + "/info", cookie);
        assertEquals("valid", JSON.readTree(info.body()).get("session").asText(), info.body());
        String host = "a.ide.test:" + port(kind);
        RawHttp.Response echo = RawRequest.get(page + "/echo").host(host).header("Origin", "http://" + host).cookie(cookie)
                .webSocket().send(servers.get(kind));
        assertEquals(101, echo.status(), echo.toString());

        int seen = upstream.seen().size();
        for (String wrongHost : new String[] {"b.ide.test", "127.0.0.1", "a.ide.test.evil.example"}) {
            assertEquals(404, get(kind, wrongHost, page, null).status(), wrongHost);
            assertEquals(404, get(kind, wrongHost, page + "/info", cookie).status(), wrongHost);
        }
        RawHttp.Response otherOrigin = RawRequest.get(page + "/echo").host(host).header("Origin", "http://b.ide.test:"
                + port(kind)).cookie(cookie).webSocket().send(servers.get(kind));
        assertEquals(403, otherOrigin.status(), "another workspace's origin: " + otherOrigin);
        assertEquals(seen, upstream.seen().size());
    }

    private String bootstrapUrl(Container kind, String workspace) throws Exception {
        HttpResponse<String> minted = new Browser(servers.get(kind))
                .mint(workspace, "Bearer " + Portal.bearer("alice", workspace));
        assertEquals(200, minted.statusCode(), minted.body());
        return JSON.readTree(minted.body()).get("bootstrapUrl").asText();
    }

    /** Mints, bootstraps on the workspace's host, returns the Cookie header value. */
    private String session(Container kind, String workspace) throws Exception {
        RawHttp.Response bootstrap = get(kind, workspace + ".ide.test", pathOf(bootstrapUrl(kind, workspace)), null);
        assertEquals(303, bootstrap.status(), bootstrap.toString());
        String setCookie = bootstrap.header("Set-Cookie");
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    private RawHttp.Response get(Container kind, String host, String path, String cookie) throws Exception {
        return RawRequest.get(path).host(host + ":" + port(kind)).cookie(cookie).send(servers.get(kind));
    }

    private int port(Container kind) {
        return servers.get(kind).base().getPort();
    }

    private static String pathOf(String absoluteUrl) {
        URI uri = URI.create(absoluteUrl);
        return uri.getRawPath() + "?" + uri.getRawQuery();
    }
}

package dev.ideproxy.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.RawRequest;
import dev.ideproxy.testing.ScriptedUpstream;
import dev.ideproxy.testing.Upstream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Behind a trusted reverse proxy (here the test client's own address is trusted): the forwarding
 * chain is kept and extended, its HTTPS makes the cookie Secure; and in the response direction,
 * headers a workspace must not pass to the browser are withheld. Both containers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ForwardedHeadersTest {
    static final String CONTEXT = "/portal";
    static final String HOSTILE_RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
            + "Connection: close, X-Hop-Secret\r\nX-Hop-Secret: drop-me\r\nKeep-Alive: timeout=5\r\n"
            + "Proxy-Authenticate: Basic realm=x\r\nClear-Site-Data: \"cookies\", \"storage\"\r\n"
            + "Service-Worker-Allowed: /\r\nX-Kept: yes\r\n\r\nok";
    static final String ESCAPING_WORKER = "HTTP/1.1 200 OK\r\nContent-Type: text/javascript\r\nContent-Length: 2\r\n"
            + "Service-Worker-Allowed: /../../\r\nConnection: close\r\n\r\nok";

    Containers servers;
    Upstream upstream;
    ScriptedUpstream scripted;

    @BeforeAll
    void start() throws Exception {
        upstream = new Upstream("A");
        scripted = new ScriptedUpstream(path -> path.equals("/worker.js") ? ESCAPING_WORKER : HOSTILE_RESPONSE);
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstream.uri() + ",s=" + scripted.uri())
                .set(ConfigOption.FORWARDED_TRUSTED_PROXIES, "127.0.0.1/32, ::1")
                .build();
        servers = Containers.start(CONTEXT, kind -> IdeProxy.builder(config).build());
    }

    @AfterAll
    void stop() throws Exception {
        servers.close();
        upstream.close();
        scripted.close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aTrustedProxysChainIsKeptAndExtended(Container kind) throws Exception {
        String cookie = new Browser(servers.get(kind)).session("a", "alice");
        RawHttp.Response r = RawRequest.get(CONTEXT + "/__ide/a/").cookie(cookie)
                .header("X-Forwarded-For", "198.51.100.7").header("X-Forwarded-Proto", "https")
                .header("X-Forwarded-Host", "ide.example").header("Forwarded", "for=198.51.100.7;proto=https;host=ide.example")
                .header("Authorization", "Basic cG9ydGFsOnNlY3JldA==").send(servers.get(kind));
        assertEquals(200, r.status(), r.toString());
        Upstream.Seen seen = upstream.last();
        assertEquals("198.51.100.7, 127.0.0.1", seen.header("X-Forwarded-For"));
        assertEquals("https", seen.header("X-Forwarded-Proto"));
        assertEquals("ide.example", seen.header("X-Forwarded-Host"));
        assertEquals("for=198.51.100.7;proto=https;host=ide.example, for=\"127.0.0.1\";proto=http;host=\""
                + servers.get(kind).hostHeader() + "\"", seen.header("Forwarded"));
        assertNull(seen.header("Authorization"), "credentials never pass, even from a trusted proxy");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aTrustedProxysHttpsMakesTheCookieSecure(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        RawHttp.Response viaTls = RawRequest.get(browser.bootstrapUrl("a", "alice")).header("X-Forwarded-Proto", "https")
                .send(servers.get(kind));
        assertEquals(303, viaTls.status());
        assertTrue(viaTls.header("Set-Cookie").contains("; Secure"), viaTls.header("Set-Cookie"));
        RawHttp.Response plain = RawRequest.get(browser.bootstrapUrl("a", "alice")).send(servers.get(kind));
        assertEquals(303, plain.status());
        assertTrue(!plain.header("Set-Cookie").contains("Secure"), plain.header("Set-Cookie"));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void responseHeadersAWorkspaceMayNotSendAreWithheld(Container kind) throws Exception {
        String cookie = new Browser(servers.get(kind)).session("s", "alice");
        RawHttp.Response r = RawRequest.get(CONTEXT + "/__ide/s/page").cookie(cookie).send(servers.get(kind));
        assertEquals(200, r.status(), r.toString());
        assertEquals("ok", r.body());
        assertEquals("yes", r.header("X-Kept"));
        assertNull(r.header("X-Hop-Secret"), "named in the upstream's Connection header");
        assertNull(r.header("Keep-Alive"));
        assertNull(r.header("Proxy-Authenticate"));
        assertNull(r.header("Clear-Site-Data"), "would wipe the portal's cookies and storage (same origin)");
        assertEquals(CONTEXT + "/__ide/s/", r.header("Service-Worker-Allowed"), "a worker's scope stays in the tunnel");

        RawHttp.Response worker = RawRequest.get(CONTEXT + "/__ide/s/worker.js").cookie(cookie).send(servers.get(kind));
        assertEquals(200, worker.status());
        assertNull(worker.header("Service-Worker-Allowed"), "a scope climbing out of the tunnel is dropped");
    }
}

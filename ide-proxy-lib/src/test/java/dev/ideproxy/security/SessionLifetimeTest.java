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
import dev.ideproxy.testing.MutableClock;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.RawRequest;
import dev.ideproxy.testing.ScriptedUpstream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The session cookie over time, on both containers: renewed while in use (sliding), never past its
 * maximum lifetime, not cacheable when renewed; the bootstrap's landing path; logout.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionLifetimeTest {
    static final String CONTEXT = "/portal";
    static final String CACHEABLE = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: public, max-age=3600\r\n"
            + "Expires: Thu, 01 Jan 2099 00:00:00 GMT\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

    Containers servers;
    final MutableClock clock = new MutableClock(Instant.now());
    ScriptedUpstream upstream;

    @BeforeAll
    void start() throws Exception {
        upstream = new ScriptedUpstream(path -> CACHEABLE);
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstream.uri())
                .set(ConfigOption.SESSION_TTL, "1h")
                .set(ConfigOption.SESSION_MAX_LIFETIME, "3h")
                .build();
        servers = Containers.start(CONTEXT, kind -> IdeProxy.builder(config).clock(clock).build());
    }

    @AfterAll
    void stop() throws Exception {
        servers.close();
        upstream.close();
    }

    @BeforeEach
    void resetClock() {
        clock.set(Instant.now());
    }

    RawHttp.Response request(Container kind, String method, String pathAndQuery, String cookie) throws Exception {
        return RawRequest.method(method, pathAndQuery).cookie(cookie).send(servers.get(kind));
    }

    static String nameValue(String setCookie) {
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void cookieSlidesWhileInUseAndEndsAtTheMaximumLifetime(Container kind) throws Exception {
        Instant t0 = clock.instant();
        String first = new Browser(servers.get(kind)).session("a", "alice");

        clock.set(t0.plus(Duration.ofMinutes(20)));
        RawHttp.Response fresh = request(kind, "GET", CONTEXT + "/__ide/a/x", first);
        assertEquals(200, fresh.status());
        assertTrue(fresh.headers("Set-Cookie").isEmpty(), "more than half of the idle lifetime is left: no renewal");
        assertEquals("public, max-age=3600", fresh.header("Cache-Control"), "the upstream's caching passes untouched");

        clock.set(t0.plus(Duration.ofMinutes(40)));
        RawHttp.Response renewing = request(kind, "GET", CONTEXT + "/__ide/a/x", first);
        assertEquals(200, renewing.status());
        assertEquals("ok", renewing.body());
        String setCookie = renewing.header("Set-Cookie");
        assertTrue(setCookie.startsWith("ide_proxy_session="), renewing.toString());
        assertTrue(setCookie.contains("; Path=" + CONTEXT + "/__ide/a/; Max-Age=3600; HttpOnly"), setCookie);
        assertTrue(setCookie.endsWith("; SameSite=Lax"), setCookie);
        assertEquals(1, renewing.headers("Cache-Control").size(), renewing.toString());
        assertEquals("no-store", renewing.header("Cache-Control"), "a response carrying a session is never cached");
        assertNull(renewing.header("Expires"));
        String second = nameValue(setCookie);

        clock.set(t0.plus(Duration.ofMinutes(90)));
        assertEquals(401, request(kind, "GET", CONTEXT + "/__ide/a/x", first).status(), "the first cookie's idle hour passed");
        RawHttp.Response again = request(kind, "GET", CONTEXT + "/__ide/a/x", second);
        assertEquals(200, again.status());
        String third = nameValue(again.header("Set-Cookie"));

        clock.set(t0.plus(Duration.ofMinutes(140)));
        RawHttp.Response capped = request(kind, "GET", CONTEXT + "/__ide/a/x", third);
        assertEquals(200, capped.status());
        long expectedMaxAge = Duration.between(clock.instant().truncatedTo(ChronoUnit.SECONDS),
                t0.truncatedTo(ChronoUnit.SECONDS).plus(Duration.ofHours(3))).getSeconds();
        assertTrue(capped.header("Set-Cookie").contains("; Max-Age=" + expectedMaxAge + ";"),
                "renewed only up to the session's end: " + capped.header("Set-Cookie"));
        String fourth = nameValue(capped.header("Set-Cookie"));

        clock.set(t0.plus(Duration.ofMinutes(179)));
        RawHttp.Response last = request(kind, "GET", CONTEXT + "/__ide/a/x", fourth);
        assertEquals(200, last.status());
        assertTrue(last.headers("Set-Cookie").isEmpty(), "nothing left to extend");

        clock.set(t0.plus(Duration.ofMinutes(181)));
        RawHttp.Response ended = request(kind, "GET", CONTEXT + "/__ide/a/x", fourth);
        assertEquals(401, ended.status());
        assertTrue(ended.body().contains("Open the IDE again from the portal"), ended.body());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void bootstrapLandsOnTheRequestedPathInsideTheTunnel(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        for (String target : new String[] {CONTEXT + "/__ide/a/?folder=/home/coder/project",
                CONTEXT + "/__ide/a/static/x.js", CONTEXT + "/__ide/a/"}) {
            String url = browser.bootstrapUrl("a", "alice") + "&path=" + URLEncoder.encode(target, StandardCharsets.UTF_8);
            RawHttp.Response r = request(kind, "GET", url, null);
            assertEquals(303, r.status(), r.toString());
            assertEquals(target, r.header("Location"));
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void logoutClearsTheWorkspacesCookie(Container kind) throws Exception {
        String cookie = new Browser(servers.get(kind)).session("a", "alice");
        RawHttp.Response out = request(kind, "POST", CONTEXT + "/api/dev/a/logout", cookie);
        assertEquals(200, out.status(), out.toString());
        assertTrue(out.body().contains("You are signed out of workspace a"), out.body());
        assertEquals("ide_proxy_session=; Path=" + CONTEXT + "/__ide/a/; Max-Age=0; HttpOnly; SameSite=Lax",
                out.header("Set-Cookie"));
        assertEquals("no-store", out.header("Cache-Control"));

        RawHttp.Response get = request(kind, "GET", CONTEXT + "/api/dev/a/logout", cookie);
        assertEquals(405, get.status());
        assertEquals("POST", get.header("Allow"));
        assertEquals(404, request(kind, "POST", CONTEXT + "/api/dev/a.b/logout", null).status());
    }
}

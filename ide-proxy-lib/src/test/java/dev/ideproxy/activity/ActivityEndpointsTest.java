package dev.ideproxy.activity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.MutableClock;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.security.Principal;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Workspace activity through the endpoints, on both containers, with a clock the test moves: HTTP
 * requests and WebSocket frames either way are recorded at the clock's time, live WebSockets are
 * counted, {@code GET /api/activity?inactive-since=} lists exactly the idle workspaces, and both
 * endpoints answer 401 and 403 without their grant (the bearer JWT's admin claim, the container
 * user's admin role).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ActivityEndpointsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** Short, so that the frame clock (refreshed every interval at most) follows the test's clock quickly. */
    private static final String INTERVAL = "200ms";

    private Upstream http;
    private WebSocketUpstream ws;
    private WebSocketClient client;

    @BeforeAll
    void start() throws Exception {
        http = new Upstream("H");
        ws = new WebSocketUpstream("W");
        client = new WebSocketClient();
        client.start();
    }

    @AfterAll
    void stop() throws Exception {
        client.stop();
        http.close();
        ws.close();
    }

    private IdeProxyConfig.Builder config() {
        return IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + http.uri() + ",b=" + http.uri() + ",c=" + http.uri() + ",w=" + ws.uri())
                .set(ConfigOption.ACTIVITY_INTERVAL, INTERVAL);
    }

    private Container.Running start(Container kind, MutableClock clock) throws Exception {
        return kind.start("/portal", IdeProxy.builder(config().build()).clock(clock).build());
    }

    private static MutableClock clock() {
        return new MutableClock(Instant.now().truncatedTo(ChronoUnit.MILLIS));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void httpRequestsAreActivityAtTheClocksTimeWithTheirUser(Container kind) throws Exception {
        MutableClock clock = clock();
        try (Container.Running server = start(kind, clock)) {
            Browser browser = new Browser(server);
            String alice = Grants.session(browser, "a", "alice");
            JsonNode none = activity(server, "a", Grants.bearer("portal", "a"));
            assertTrue(none.get("lastActivity").isNull(), "opening a session is not using the workspace: " + none);
            assertTrue(none.get("idleSeconds").isNull());
            assertTrue(none.get("user").isNull());
            assertEquals(0, none.get("liveWebSockets").asInt());

            clock.advance(Duration.ofMinutes(1));
            Instant t1 = clock.instant();
            assertEquals(200, browser.getPath("/portal/__ide/a/x", alice).statusCode());
            JsonNode used = activity(server, "a", Grants.bearer("portal", "a"));
            assertEquals("a", used.get("workspace").asText());
            assertEquals(t1.toString(), used.get("lastActivity").asText());
            assertEquals(0, used.get("idleSeconds").asLong());
            assertEquals("alice", used.get("user").asText());

            clock.advance(Duration.ofMinutes(10));
            JsonNode idle = activity(server, "a", Grants.bearer("portal", "a"));
            assertEquals(t1.toString(), idle.get("lastActivity").asText(), "nothing happened since");
            assertEquals(600, idle.get("idleSeconds").asLong());

            String bob = Grants.session(browser, "a", "bob");
            Instant t2 = clock.instant();
            assertEquals(200, browser.getPath("/portal/__ide/a/y", bob).statusCode());
            JsonNode byBob = activity(server, "a", Grants.bearer("portal", "a"));
            assertEquals(t2.toString(), byBob.get("lastActivity").asText());
            assertEquals("bob", byBob.get("user").asText());

            HttpResponse<String> refused = browser.getPath("/portal/__ide/b/x", alice);
            assertEquals(401, refused.statusCode(), "a cookie of another workspace");
            assertTrue(activity(server, "b", Grants.bearer("portal", "b")).get("lastActivity").isNull(),
                    "a refused request is not activity");
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void framesEitherWayAreActivityAndLiveWebSocketsAreCounted(Container kind) throws Exception {
        MutableClock clock = clock();
        try (Container.Running server = start(kind, clock)) {
            Browser browser = new Browser(server);
            String portal = Grants.bearer("portal", "w");
            String cookie = Grants.session(browser, "w", "alice");

            clock.advance(Duration.ofMinutes(1));
            Instant opened = clock.instant();
            BrowserSocket sink = BrowserSocket.open(client, server, "/portal/__ide/w/sink", cookie);
            JsonNode one = activity(server, "w", portal);
            assertEquals(opened.toString(), one.get("lastActivity").asText(), "the upgrade request");
            assertEquals(1, one.get("liveWebSockets").asInt());
            assertEquals("alice", one.get("user").asText());

            // Browser to upstream: frames sent after the clock moved are recorded at its new time.
            clock.advance(Duration.ofMinutes(1));
            Instant browserFrames = clock.instant();
            awaitLastActivity(server, "w", portal, browserFrames,
                    () -> sink.session().sendText("typing", Callback.NOOP));

            // Upstream to browser: the browser stops reading, asks for a flood and sends nothing more.
            BrowserSocket flood = BrowserSocket.open(client, server, "/portal/__ide/w/flood", cookie).countOnly();
            assertEquals(2, activity(server, "w", portal).get("liveWebSockets").asInt());
            flood.pause();
            long total = 48L << 20; // more than the socket buffers between the upstream and the browser
            flood.session().sendText("!flood " + total + " 16384", Callback.NOOP);
            // The buffers towards the browser fill, then the relay stops reading the upstream and the upstream stalls.
            waitUntil(() -> {
                long before = ws.floodSent();
                Thread.sleep(500);
                return before > 0 && ws.floodSent() == before;
            }, "the flood to stall");
            JsonNode stalled = activity(server, "w", portal);
            clock.advance(Duration.ofMinutes(1));
            Instant upstreamFrames = clock.instant();
            Thread.sleep(600); // the frame clock catches up with the moved clock
            assertEquals(stalled.get("lastActivity").asText(), activity(server, "w", portal).get("lastActivity").asText(),
                    "nothing was relayed while the browser did not read");
            flood.resume();
            waitUntil(() -> flood.binaryBytes() == total, "the flood to arrive");
            assertEquals(0, flood.sequenceErrors());
            assertEquals(upstreamFrames.toString(), activity(server, "w", portal).get("lastActivity").asText(),
                    "frames from the upstream are activity");

            sink.session().close();
            flood.session().close();
            waitUntil(() -> activity(server, "w", portal).get("liveWebSockets").asInt() == 0, "both sockets to be counted out");
            assertEquals(upstreamFrames.toString(), activity(server, "w", portal).get("lastActivity").asText());
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theIdleListingListsWorkspacesIdleLongerThanAskedOldestFirst(Container kind) throws Exception {
        MutableClock clock = clock();
        try (Container.Running server = start(kind, clock)) {
            Browser browser = new Browser(server);
            String onA = Grants.session(browser, "a", "alice");
            String onB = Grants.session(browser, "b", "bob");
            Grants.session(browser, "c", "carol"); // opened, never used: not known as activity

            clock.advance(Duration.ofMinutes(1));
            Instant usedA = clock.instant();
            assertEquals(200, browser.getPath("/portal/__ide/a/x", onA).statusCode());
            clock.advance(Duration.ofMinutes(20));
            Instant usedB = clock.instant();
            assertEquals(200, browser.getPath("/portal/__ide/b/x", onB).statusCode());
            clock.advance(Duration.ofMinutes(11)); // a: idle 31 min, b: 11 min

            String admin = Grants.admin("culler", true);
            JsonNode idle30 = list(server, "?inactive-since=30m", admin);
            assertEquals(clock.instant().toString(), idle30.get("now").asText());
            assertEquals(clock.instant().minus(Duration.ofMinutes(30)).toString(), idle30.get("cutoff").asText());
            assertEquals(List.of("a"), workspaces(idle30));
            JsonNode a = idle30.get("workspaces").get(0);
            assertEquals(usedA.toString(), a.get("lastActivity").asText());
            assertEquals(31 * 60, a.get("idleSeconds").asLong());
            assertEquals("alice", a.get("user").asText());
            assertEquals(0, a.get("liveWebSockets").asInt());

            assertEquals(List.of("a", "b"), workspaces(list(server, "?inactive-since=5m", admin)), "oldest first");
            assertEquals(List.of("a", "b"), workspaces(list(server, "?inactive-since=600", admin)), "seconds");
            assertEquals(List.of(), workspaces(list(server, "?inactive-since=1h", admin)));
            JsonNode all = list(server, "", admin);
            assertTrue(all.get("cutoff").isNull());
            assertEquals(List.of("a", "b"), workspaces(all), "every workspace known to be used");
            assertEquals(usedB.toString(), all.get("workspaces").get(1).get("lastActivity").asText());

            assertEquals(400, get(server, "/portal/api/activity?inactive-since=soon", admin).statusCode());
            assertEquals(400, get(server, "/portal/api/activity?inactive-since=1m&inactive-since=2m", admin).statusCode());
            HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(server.uri("/api/activity"))
                    .header("Authorization", admin).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void withoutTheirGrantBothEndpointsAnswer401Or403(Container kind) throws Exception {
        MutableClock clock = clock();
        try (Container.Running server = start(kind, clock)) {
            HttpResponse<String> anonymous = get(server, "/portal/api/activity?inactive-since=30m", null);
            assertEquals(401, anonymous.statusCode(), anonymous.body());
            assertEquals("Bearer", anonymous.headers().firstValue("WWW-Authenticate").orElseThrow());
            assertJson(anonymous);
            assertEquals(401, get(server, "/portal/api/activity", "Bearer not-a-token").statusCode());
            HttpResponse<String> user = get(server, "/portal/api/activity", Grants.bearer("alice", "a", "b", "c", "w"));
            assertEquals(403, user.statusCode(), "workspace grants are not the admin grant: " + user.body());
            assertJson(user);
            assertEquals(403, get(server, "/portal/api/activity", Grants.admin("alice", false)).statusCode());
            assertEquals(403, get(server, "/portal/api/activity", Grants.admin("alice", "true")).statusCode(),
                    "the claim must be the boolean true");
            assertEquals(200, get(server, "/portal/api/activity", Grants.admin("culler", true)).statusCode());

            assertEquals(401, get(server, "/portal/api/dev/a/activity", null).statusCode());
            HttpResponse<String> other = get(server, "/portal/api/dev/a/activity", Grants.bearer("alice", "b"));
            assertEquals(403, other.statusCode(), other.body());
            assertJson(other);
            assertEquals(403, get(server, "/portal/api/dev/a/activity", Grants.admin("culler", true)).statusCode(),
                    "the per-workspace endpoint is decided like the mint");
            assertEquals(200, get(server, "/portal/api/dev/a/activity", Grants.bearer("alice", "a")).statusCode());
            HttpResponse<String> post = HTTP.send(HttpRequest.newBuilder(server.uri("/api/dev/a/activity"))
                    .header("Authorization", Grants.bearer("alice", "a")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
            assertEquals("GET", post.headers().firstValue("Allow").orElseThrow());
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theAdminGrantIsTheConfiguredClaimOrRoleOfEitherPolicy(Container kind) throws Exception {
        IdeProxy proxy = IdeProxy.builder(config()
                        .set(ConfigOption.AUTH_POLICIES, "jwt,principal")
                        .set(ConfigOption.AUTH_JWT_ADMIN_CLAIM, "ops")
                        .set(ConfigOption.AUTH_PRINCIPAL_ROLE, "*")
                        .set(ConfigOption.AUTH_PRINCIPAL_ADMIN_ROLE, "ops")
                        .build()).build();
        try (Container.Running server = kind.start("/portal", context -> {
            // The host application's login, as Spring Security's wraps the request.
            FilterRegistration.Dynamic login = context.addFilter("test-login", new HeaderLogin());
            login.setAsyncSupported(true);
            login.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/*");
            proxy.install(context);
        })) {
            assertEquals(401, getAs(server, "/portal/api/activity", null, "").statusCode());
            assertEquals(403, getAs(server, "/portal/api/activity", "dave", "developers").statusCode());
            assertEquals(403, getAs(server, "/portal/api/activity", "erin", "ide-proxy-admin").statusCode(),
                    "the configured admin role, not the default one");
            assertEquals(200, getAs(server, "/portal/api/activity", "carol", "ops").statusCode());
            assertEquals(200, getAs(server, "/portal/api/dev/a/activity", "dave", "").statusCode(),
                    "auth.principal.role=* lets any signed-in user read a workspace's activity");
            assertEquals(401, getAs(server, "/portal/api/dev/a/activity", null, "").statusCode());

            assertEquals(403, get(server, "/portal/api/activity", Grants.admin("culler", true)).statusCode(),
                    "the configured claim, not the default one");
            String ops = "Bearer " + com.auth0.jwt.JWT.create().withSubject("culler").withClaim("ops", true)
                    .withExpiresAt(Instant.now().plusSeconds(300))
                    .sign(com.auth0.jwt.algorithms.Algorithm.HMAC256(Portal.BEARER_SECRET.getBytes(
                            java.nio.charset.StandardCharsets.UTF_8)));
            assertEquals(200, get(server, "/portal/api/activity", ops).statusCode());
        }
    }

    // ------------------------------------------------------------------ helpers

    /** A login filter standing for the host application's: the user and roles come from test headers. */
    private static final class HeaderLogin extends HttpFilter {
        @Override
        protected void doFilter(jakarta.servlet.http.HttpServletRequest request,
                                jakarta.servlet.http.HttpServletResponse response, jakarta.servlet.FilterChain chain)
                throws java.io.IOException, jakarta.servlet.ServletException {
            String user = request.getHeader("X-Test-User");
            if (user == null) {
                chain.doFilter(request, response);
                return;
            }
            Set<String> roles = Set.of(request.getHeader("X-Test-Roles").split(","));
            chain.doFilter(new HttpServletRequestWrapper(request) {
                @Override
                public Principal getUserPrincipal() {
                    return () -> user;
                }

                @Override
                public String getRemoteUser() {
                    return user;
                }

                @Override
                public boolean isUserInRole(String role) {
                    return roles.contains(role);
                }
            }, response);
        }
    }

    private static HttpResponse<String> getAs(Container.Running server, String path, String user, String roles)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + server.hostHeader() + path)).timeout(WAIT).GET();
        if (user != null) {
            b.header("X-Test-User", user).header("X-Test-Roles", roles);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(Container.Running server, String path, String authorization)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + server.hostHeader() + path)).timeout(WAIT).GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode activity(Container.Running server, String workspace, String authorization) throws Exception {
        HttpResponse<String> response = get(server, "/portal/api/dev/" + workspace + "/activity", authorization);
        assertEquals(200, response.statusCode(), response.body());
        assertJson(response);
        return JSON.readTree(response.body());
    }

    private static JsonNode list(Container.Running server, String query, String authorization) throws Exception {
        HttpResponse<String> response = get(server, "/portal/api/activity" + query, authorization);
        assertEquals(200, response.statusCode(), response.body());
        assertJson(response);
        return JSON.readTree(response.body());
    }

    private static List<String> workspaces(JsonNode listing) {
        List<String> ids = new ArrayList<>();
        listing.get("workspaces").forEach(w -> ids.add(w.get("workspace").asText()));
        return ids;
    }

    private static void assertJson(HttpResponse<String> response) {
        assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("application/json"));
        assertEquals("no-store", response.headers().firstValue("Cache-Control").orElseThrow());
    }

    /** Repeats {@code act} until the workspace's last activity is {@code expected}; fails if it is ever later. */
    private static void awaitLastActivity(Container.Running server, String workspace, String authorization, Instant expected,
                                          ThrowingRunnable act) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            act.run();
            last = activity(server, workspace, authorization).get("lastActivity").asText();
            if (last.equals(expected.toString())) {
                return;
            }
            assertFalse(Instant.parse(last).isAfter(expected), last + " is later than the clock");
            Thread.sleep(50);
        }
        throw new AssertionError("last activity " + last + ", expected " + expected);
    }

    private static void waitUntil(ThrowingCondition condition, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @FunctionalInterface
    private interface ThrowingCondition {
        boolean holds() throws Exception;
    }
}

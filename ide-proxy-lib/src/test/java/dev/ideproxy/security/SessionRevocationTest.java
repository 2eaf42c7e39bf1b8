package dev.ideproxy.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.MutableClock;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import dev.ideproxy.token.InMemoryRevocationStore;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Sessions ended before their time: {@code POST /api/dev/{id}/revoke} (and {@link IdeProxy#revokeSessions})
 * make the tunnel refuse the sessions at once, close their live WebSockets, leave other users' and
 * other workspaces' sessions alone, and let a new bootstrap open a new session. Two nodes sharing a
 * revocation store: a revocation on one closes the other's WebSockets at its next check.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SessionRevocationTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final MutableClock clock = new MutableClock(Instant.now());
    private final InMemoryRevocationStore shared = new InMemoryRevocationStore(clock);
    private Containers servers;
    /** A second node per container, sharing the revocation store with the first. */
    private Containers seconds;
    private Upstream httpUpstream;
    private WebSocketUpstream wsUpstream;
    private WebSocketClient client;

    @BeforeAll
    void start() throws Exception {
        httpUpstream = new Upstream("H");
        wsUpstream = new WebSocketUpstream("W");
        servers = Containers.start("", kind -> proxy());
        seconds = Containers.start("", kind -> proxy());
        client = new WebSocketClient();
        client.start();
    }

    private IdeProxy proxy() {
        return IdeProxy.builder(IdeProxyConfig.builder()
                        .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                        .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                        .set(ConfigOption.TARGETS, "a=" + httpUpstream.uri() + ",b=" + httpUpstream.uri()
                                + ",w=" + wsUpstream.uri())
                        .set(ConfigOption.SESSION_REVOCATION_CHECK, "200ms")
                        .build())
                .clock(clock)
                .revocationStore(shared)
                .build();
    }

    @AfterAll
    void stop() throws Exception {
        client.stop();
        try (Containers first = servers; Containers second = seconds) {
            // both nodes close, the second first, whichever fails
        }
        httpUpstream.close();
        wsUpstream.close();
    }

    @BeforeEach
    void laterThanAnyEarlierRevocation() {
        // Revocations are kept to the second of the session's start: each case starts its sessions later.
        clock.advance(Duration.ofSeconds(2));
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void revokingAWorkspaceEndsEverySessionOfItAndNoOther(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String aliceOnA = browser.session("a", "alice");
        String bobOnA = browser.session("a", "bob");
        String aliceOnB = browser.session("b", "alice");
        assertEquals(200, browser.getPath("/__ide/a/x", aliceOnA).statusCode());

        HttpResponse<String> revoked = revoke(kind, "a", null, Portal.bearer("portal", "a"));
        assertEquals(200, revoked.statusCode(), revoked.body());
        JsonNode body = JSON.readTree(revoked.body());
        assertEquals("a", body.get("workspace").asText());
        assertTrue(body.get("user").isNull(), revoked.body());
        assertEquals(0, body.get("closedWebSockets").asInt());
        assertNotNull(Instant.parse(body.get("revokedAt").asText()));

        int seen = httpUpstream.seen().size();
        for (String cookie : new String[] {aliceOnA, bobOnA}) {
            HttpResponse<String> refused = browser.getPath("/__ide/a/x", cookie);
            assertEquals(401, refused.statusCode(), refused.body());
            assertTrue(refused.body().contains("Open the IDE again from the portal"), refused.body());
        }
        assertEquals(seen, httpUpstream.seen().size(), "a revoked session reached the upstream");
        assertEquals(401, seconds(kind).getPath("/__ide/a/x", aliceOnA).statusCode(), "the other node too");
        assertEquals(200, browser.getPath("/__ide/b/x", aliceOnB).statusCode(), "workspace b is not affected");

        clock.advance(Duration.ofSeconds(2));
        String again = browser.session("a", "alice");
        assertEquals(200, browser.getPath("/__ide/a/x", again).statusCode(), "a new session after the revocation");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aLinkMintedBeforeTheRevocationCannotOpenASessionAfterIt(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String link = browser.bootstrapUrl("a", "henry");
        clock.advance(Duration.ofSeconds(5)); // the user opens the link later
        assertEquals(200, revoke(kind, "a", "henry", Portal.bearer("portal", "a")).statusCode());

        HttpResponse<String> refused = browser.getPath(link, null);
        assertEquals(401, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("the session was ended by the portal"), refused.body());
        assertTrue(refused.headers().firstValue("Set-Cookie").isEmpty(), "a cookie for a revoked session");

        clock.advance(Duration.ofSeconds(2));
        String again = browser.session("a", "henry");
        assertEquals(200, browser.getPath("/__ide/a/x", again).statusCode(), "a new mint opens a new session");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void revokingOneUserLeavesTheOtherUsersOfTheWorkspace(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String aliceOnA = browser.session("a", "alice");
        String bobOnA = browser.session("a", "bob");

        HttpResponse<String> revoked = revoke(kind, "a", "alice", Portal.bearer("portal", "a"));
        assertEquals(200, revoked.statusCode(), revoked.body());
        assertEquals("alice", JSON.readTree(revoked.body()).get("user").asText());

        assertEquals(401, browser.getPath("/__ide/a/x", aliceOnA).statusCode());
        assertEquals(200, browser.getPath("/__ide/a/x", bobOnA).statusCode());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aUserRevokedEverywhereLosesEveryWorkspace(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String carolOnA = browser.session("a", "carol");
        String carolOnB = browser.session("b", "carol");
        String daveOnA = browser.session("a", "dave");

        servers.proxy(kind).revokeSessions(null, "carol");

        assertEquals(401, browser.getPath("/__ide/a/x", carolOnA).statusCode());
        assertEquals(401, browser.getPath("/__ide/b/x", carolOnB).statusCode());
        assertEquals(200, browser.getPath("/__ide/a/x", daveOnA).statusCode());
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aLiveWebSocketIsClosedWhenItsSessionIsRevoked(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String alice = browser.session("w", "alice");
        String bob = browser.session("w", "bob");
        BrowserSocket aliceSocket = connect(servers.get(kind), alice);
        BrowserSocket bobSocket = connect(servers.get(kind), bob);
        assertEcho(aliceSocket, "before");
        wsUpstream.clearCloses();

        HttpResponse<String> revoked = revoke(kind, "w", "alice", Portal.bearer("portal", "w"));
        assertEquals(200, revoked.statusCode(), revoked.body());
        assertEquals(1, JSON.readTree(revoked.body()).get("closedWebSockets").asInt(), revoked.body());

        BrowserSocket.Closed closed = aliceSocket.closed().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(1008, closed.code(), closed.toString());
        assertEquals("session revoked", closed.reason());
        WebSocketUpstream.Closed upstreamClosed = wsUpstream.nextClose(WAIT);
        assertNotNull(upstreamClosed, "the upstream side was not closed");
        assertEquals(1001, upstreamClosed.code());
        assertEcho(bobSocket, "bob is still here");

        int handshakes = wsUpstream.handshakeCount();
        ExecutionException refused = assertThrows(ExecutionException.class,
                () -> connect(servers.get(kind), alice));
        assertTrue(refused.getCause() instanceof UpgradeException, String.valueOf(refused.getCause()));
        assertEquals(401, ((UpgradeException) refused.getCause()).getResponseStatusCode());
        assertEquals(handshakes, wsUpstream.handshakeCount(), "the revoked session reached the upstream");
        bobSocket.session().close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aRevocationOnAnotherNodeClosesThisNodesWebSocketsAtTheNextCheck(Container kind) throws Exception {
        Container.Running other = seconds.get(kind);
        String erin = new Browser(other).session("w", "erin");
        BrowserSocket socket = connect(other, erin);
        assertEcho(socket, "on the second node");

        long start = System.nanoTime();
        assertEquals(0, servers.proxy(kind).revokeSessions("w", "erin"), "no WebSocket of erin's on the first node");

        BrowserSocket.Closed closed = socket.closed().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(1008, closed.code(), closed.toString());
        assertEquals("session revoked", closed.reason());
        assertTrue(millis < 5_000, "closed after " + millis + " ms (check every 200 ms)");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aRefusedRevocationChangesNothing(Container kind) throws Exception {
        Browser browser = new Browser(servers.get(kind));
        String frank = browser.session("a", "frank");

        HttpResponse<String> anonymous = revoke(kind, "a", null, null);
        assertEquals(401, anonymous.statusCode(), anonymous.body());
        assertTrue(anonymous.body().contains("\"error\""), anonymous.body());
        HttpResponse<String> otherWorkspace = revoke(kind, "a", null, Portal.bearer("mallory", "b"));
        assertEquals(403, otherWorkspace.statusCode(), otherWorkspace.body());
        HttpResponse<String> twoUsers = send(kind, HttpRequest.newBuilder(
                        servers.get(kind).uri("/api/dev/a/revoke?user=frank&user=grace"))
                .header("Authorization", "Bearer " + Portal.bearer("portal", "a"))
                .POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(400, twoUsers.statusCode(), twoUsers.body());
        HttpResponse<String> get = send(kind, HttpRequest.newBuilder(servers.get(kind).uri("/api/dev/a/revoke"))
                .header("Authorization", "Bearer " + Portal.bearer("portal", "a")).GET());
        assertEquals(405, get.statusCode(), get.body());
        assertEquals("POST", get.headers().firstValue("Allow").orElse(null));

        assertEquals(200, browser.getPath("/__ide/a/x", frank).statusCode(), "a refused revocation ended the session");
    }

    private Browser seconds(Container kind) {
        return new Browser(seconds.get(kind));
    }

    private HttpResponse<String> revoke(Container kind, String workspace, String user, String bearer) throws Exception {
        String query = user == null ? "" : "?user=" + user;
        HttpRequest.Builder request = HttpRequest.newBuilder(servers.get(kind).uri("/api/dev/" + workspace + "/revoke" + query))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (bearer != null) {
            request.header("Authorization", "Bearer " + bearer);
        }
        return send(kind, request);
    }

    private HttpResponse<String> send(Container kind, HttpRequest.Builder request) throws Exception {
        return new Browser(servers.get(kind)).http().send(request.timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
    }

    private BrowserSocket connect(Container.Running server, String cookie) throws Exception {
        return BrowserSocket.open(client, server, "/__ide/w/echo", cookie);
    }

    private static void assertEcho(BrowserSocket socket, String text) throws InterruptedException {
        socket.session().sendText(text, Callback.NOOP);
        BrowserSocket.Message echo = socket.nextMessage(WAIT);
        assertNotNull(echo, "no echo of " + text);
        assertEquals("W|" + text, echo.text());
    }
}

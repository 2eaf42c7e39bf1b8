package dev.ideproxy.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import dev.ideproxy.token.InMemoryRevocationStore;
import dev.ideproxy.token.RevocationStore;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The revocation store cannot answer (a shared store is down). By default sessions fail closed, but
 * as "try again shortly" (503 with {@code Retry-After}), not as "signed out" (401); a bootstrap link is
 * refused and not used up; a WebSocket upgrade is refused before the upstream is contacted. With
 * {@code session.revocation-unavailable=serve}, sessions whose cookie verifies go on.
 *
 * <p>The outage is a {@link RevocationStore} whose answers fail while a switch is on: a real server
 * cannot be made to fail on cue here; the Redis module's tests stop a real Redis.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RevocationOutageTest {
    private final SwitchableStore store = new SwitchableStore();
    private Upstream http;
    private WebSocketUpstream ws;
    private Containers refusing;
    private Containers serving;
    private WebSocketClient client;

    @BeforeAll
    void start() throws Exception {
        http = new Upstream("H");
        ws = new WebSocketUpstream("W");
        refusing = Containers.start("", kind -> proxy("refuse"));
        serving = Containers.start("", kind -> proxy("serve"));
        client = new WebSocketClient();
        client.start();
    }

    private IdeProxy proxy(String whenUnavailable) {
        return IdeProxy.builder(IdeProxyConfig.builder()
                        .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                        .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                        .set(ConfigOption.TARGETS, "a=" + http.uri() + ",w=" + ws.uri())
                        .set(ConfigOption.SESSION_REVOCATION_UNAVAILABLE, whenUnavailable)
                        .build())
                .revocationStore(store)
                .build();
    }

    @AfterEach
    void storeBack() {
        store.down = false;
    }

    @AfterAll
    void stop() throws Exception {
        client.stop();
        try (Containers a = refusing; Containers b = serving) {
            // both stop
        }
        http.close();
        ws.close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void byDefaultSessionsAnswer503WithRetryAfterAndComeBackWithTheStore(Container kind) throws Exception {
        Browser browser = new Browser(refusing.get(kind));
        String cookie = browser.session("a", "alice");
        String onW = browser.session("w", "alice");
        String link = browser.bootstrapUrl("a", "alice");
        assertEquals(200, browser.getPath("/__ide/a/x", cookie).statusCode());

        store.down = true;
        int seen = http.seen().size();
        int handshakes = ws.handshakeCount();
        HttpResponse<String> refused = browser.getPath("/__ide/a/x", cookie);
        assertEquals(503, refused.statusCode(), refused.body());
        assertEquals("5", refused.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(refused.body().contains("cannot be checked right now"), refused.body());
        HttpResponse<String> bootstrap = browser.getPath(link, null);
        assertEquals(503, bootstrap.statusCode(), bootstrap.body());
        assertTrue(bootstrap.headers().firstValue("Retry-After").isPresent());
        assertTrue(bootstrap.headers().firstValue("Set-Cookie").isEmpty());
        UpgradeException upgrade = assertInstanceOf(UpgradeException.class,
                assertThrows(ExecutionException.class, () -> connect(kind, refusing, onW)).getCause());
        assertEquals(503, upgrade.getResponseStatusCode());
        assertEquals(seen, http.seen().size(), "no upstream contacted while sessions cannot be checked");
        assertEquals(handshakes, ws.handshakeCount(), "no upstream WebSocket while sessions cannot be checked");

        store.down = false;
        assertEquals(200, browser.getPath("/__ide/a/x", cookie).statusCode());
        assertEquals(303, browser.getPath(link, null).statusCode(), "the link was not used up by the refusal");
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void withServeSessionsGoOnAndNewOnesStillWait(Container kind) throws Exception {
        Browser browser = new Browser(serving.get(kind));
        String onA = browser.session("a", "bob");
        String onW = browser.session("w", "bob");
        String link = browser.bootstrapUrl("a", "bob");
        store.down = true;
        HttpResponse<String> served = browser.getPath("/__ide/a/x", onA);
        assertEquals(200, served.statusCode(), served.body());
        BrowserSocket socket = connect(kind, serving, onW);
        assertTrue(socket.isOpen());
        socket.session().close();
        HttpResponse<String> bootstrap = browser.getPath(link, null);
        assertEquals(503, bootstrap.statusCode(), "a new session is not opened unchecked: " + bootstrap.body());
    }

    private BrowserSocket connect(Container kind, Containers servers, String cookie) throws Exception {
        return BrowserSocket.open(client, servers.get(kind), "/__ide/w/socket", cookie);
    }

    /** A revocation store whose reads fail while {@link #down} is set, as a shared store's would in an outage. */
    private static final class SwitchableStore implements RevocationStore {
        private final InMemoryRevocationStore delegate = new InMemoryRevocationStore(Clock.systemUTC());
        volatile boolean down;

        @Override
        public void revoke(String workspaceId, String user, Instant at, Instant forgetAfter) {
            if (down) {
                throw new IllegalStateException("store down");
            }
            delegate.revoke(workspaceId, user, at, forgetAfter);
        }

        @Override
        public Instant revokedAt(String workspaceId, String user) {
            if (down) {
                throw new IllegalStateException("store down");
            }
            return delegate.revokedAt(workspaceId, user);
        }
    }
}

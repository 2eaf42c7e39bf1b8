package dev.ideproxy.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.MutableClock;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RateLimitsOff;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.RawRequest;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.token.ReplayStore;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Bootstrap tokens work once, on both containers: replay, race, a full store, a pluggable store. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SingleUseTokenTest {
    static final String CONTEXT = "/portal";
    Upstream upstream;

    @BeforeAll
    void start() throws Exception {
        upstream = new Upstream("A");
    }

    @AfterAll
    void stop() {
        upstream.close();
    }

    IdeProxyConfig.Builder config() {
        // The races redeem many links of one user at once.
        return RateLimitsOff.on(IdeProxyConfig.builder())
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstream.uri());
    }

    static String token(String bootstrapUrl) {
        return bootstrapUrl.substring(bootstrapUrl.indexOf("token=") + 6);
    }

    static RawHttp.Response get(Container.Running server, String pathAndQuery) throws Exception {
        return RawRequest.get(pathAndQuery).send(server);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void secondUseIs401WithAPageSayingTheLinkWasUsed(Container kind) throws Exception {
        try (Container.Running server = kind.start(CONTEXT, IdeProxy.builder(config().build()).build())) {
            String url = new Browser(server).bootstrapUrl("a", "alice");
            RawHttp.Response first = get(server, url);
            assertEquals(303, first.status(), first.toString());
            RawHttp.Response second = get(server, url);
            assertEquals(401, second.status(), second.toString());
            assertTrue(second.body().contains("This IDE link cannot be used: this link has already been used."
                    + " Open the IDE again from the portal."), second.body());
            assertTrue(second.headers("Set-Cookie").isEmpty(), "no cookie on the second use");
            assertEquals("no-store", second.header("Cache-Control"));
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void twoThreadsPresentingOneTokenAtOnceExactlyOneSucceeds(Container kind) throws Exception {
        int rounds = 25;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try (Container.Running server = kind.start(CONTEXT, IdeProxy.builder(config().build()).build())) {
            Browser browser = new Browser(server);
            for (int round = 0; round < rounds; round++) {
                String url = browser.bootstrapUrl("a", "alice");
                CyclicBarrier together = new CyclicBarrier(2);
                List<Future<RawHttp.Response>> results = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    results.add(pool.submit(() -> {
                        together.await(5, TimeUnit.SECONDS);
                        return get(server, url);
                    }));
                }
                int ok = 0;
                int used = 0;
                for (Future<RawHttp.Response> f : results) {
                    RawHttp.Response r = f.get(20, TimeUnit.SECONDS);
                    if (r.status() == 303) {
                        ok++;
                        assertTrue(r.header("Set-Cookie").startsWith("ide_proxy_session="), r.toString());
                    } else {
                        assertEquals(401, r.status(), r.toString());
                        assertTrue(r.body().contains("this link has already been used"), r.body());
                        used++;
                    }
                }
                assertEquals(1, ok, "round " + round + ": exactly one succeeds");
                assertEquals(1, used, "round " + round + ": the other is told the link was used");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aFullStoreFailsClosedWith503UntilIdsExpire(Container kind) throws Exception {
        MutableClock clock = new MutableClock(Instant.now());
        IdeProxy proxy = IdeProxy.builder(config().set(ConfigOption.TOKEN_REPLAY_CAPACITY, "2").build()).clock(clock).build();
        try (Container.Running server = kind.start(CONTEXT, proxy)) {
            Browser browser = new Browser(server);
            assertEquals(303, get(server, browser.bootstrapUrl("a", "alice")).status());
            assertEquals(303, get(server, browser.bootstrapUrl("a", "alice")).status());
            String third = browser.bootstrapUrl("a", "alice");
            RawHttp.Response full = get(server, third);
            assertEquals(503, full.status(), full.toString());
            assertTrue(full.body().contains("The IDE cannot be opened right now"), full.body());
            assertEquals("60", full.header("Retry-After"));
            assertTrue(full.headers("Set-Cookie").isEmpty());
            clock.advance(Duration.ofSeconds(60));
            // The first two ids expired; a new link works (the third expired with them).
            assertEquals(303, get(server, browser.bootstrapUrl("a", "alice")).status());
            RawHttp.Response expired = get(server, third);
            assertEquals(401, expired.status());
            assertTrue(expired.body().contains("the token has expired"), expired.body());
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aPluggedStoreDecidesAndAFailingOneFailsClosed(Container kind) throws Exception {
        Map<String, Instant> seen = new ConcurrentHashMap<>();
        boolean[] down = {false};
        ReplayStore shared = (tokenId, expiresAt) -> {
            if (down[0]) {
                throw new ReplayStoreUnavailableException("redis unreachable");
            }
            return seen.putIfAbsent(tokenId, expiresAt) == null;
        };
        // Two proxies sharing one store, as two nodes behind a load balancer would.
        IdeProxy nodeOne = IdeProxy.builder(config().build()).replayStore(shared).build();
        IdeProxy nodeTwo = IdeProxy.builder(config().build()).replayStore(shared).build();
        try (Container.Running one = kind.start(CONTEXT, nodeOne); Container.Running two = kind.start(CONTEXT, nodeTwo)) {
            String url = new Browser(one).bootstrapUrl("a", "alice");
            assertEquals(303, get(one, url).status());
            RawHttp.Response onOtherNode = get(two, url);
            assertEquals(401, onOtherNode.status(), "the shared store knows the link was used on the other node");
            String jti = JWT.decode(token(url)).getId();
            assertEquals(JWT.decode(token(url)).getExpiresAtAsInstant(), seen.get(jti), "remembered until the token's expiry");

            down[0] = true;
            RawHttp.Response unavailable = get(two, new Browser(two).bootstrapUrl("a", "alice"));
            assertEquals(503, unavailable.status(), unavailable.toString());
            assertFalse(unavailable.body().contains("redis"), "the store's error stays in the log");
        }
    }
}

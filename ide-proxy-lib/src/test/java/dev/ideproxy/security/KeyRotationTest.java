package dev.ideproxy.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Keys;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.RawRequest;
import dev.ideproxy.testing.Upstream;
import java.security.KeyPair;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A key rotation as an operator performs it, on both containers: HS256 key k1, then ES256 key e2 with
 * k1 retiring (old links and cookies still work), then k1 removed (they fail as signed with an
 * unknown key), while tokens of e2 keep working.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyRotationTest {
    static final String CONTEXT = "/portal";
    static final String OLD_SECRET = "first-secret-0123456789abcdef0123456789";
    Upstream upstream;
    final KeyPair ec = Keys.ec("secp256r1");

    @BeforeAll
    void start() throws Exception {
        upstream = new Upstream("A");
    }

    @AfterAll
    void stop() {
        upstream.close();
    }

    IdeProxyConfig.Builder base() {
        return IdeProxyConfig.builder()
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "a=" + upstream.uri());
    }

    static RawHttp.Response get(Container.Running server, String pathAndQuery, String cookie) throws Exception {
        return RawRequest.get(pathAndQuery).cookie(cookie).send(server);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void oldKeyWorksDuringTheOverlapAndFailsAfterItsRemoval(Container kind) throws Exception {
        String oldCookie;
        String oldLink;
        String oldLinkForLater;
        // 1. Before: token.secret alone, the simple path; its kid is the default k1.
        try (Container.Running before = kind.start(CONTEXT, IdeProxy.builder(
                base().set(ConfigOption.TOKEN_SECRET, OLD_SECRET).build()).build())) {
            Browser browser = new Browser(before);
            oldCookie = browser.session("a", "alice");
            oldLink = browser.bootstrapUrl("a", "alice");
            oldLinkForLater = browser.bootstrapUrl("a", "alice");
            assertEquals("k1", JWT.decode(oldCookie.substring(oldCookie.indexOf('=') + 1)).getKeyId());
        }
        String newCookie;
        // 2. Overlap: ES256 key e2 signs, k1 still verifies.
        IdeProxyConfig overlap = base()
                .set(ConfigOption.TOKEN_PRIVATE_KEY, Keys.pem(ec.getPrivate()))
                .set(ConfigOption.TOKEN_PUBLIC_KEY, Keys.pem(ec.getPublic()))
                .set(ConfigOption.TOKEN_KEY_ID, "e2")
                .set(ConfigOption.TOKEN_VERIFICATION_KEYS, "k1=" + OLD_SECRET)
                .build();
        try (Container.Running during = kind.start(CONTEXT, IdeProxy.builder(overlap).build())) {
            RawHttp.Response viaOldCookie = get(during, CONTEXT + "/__ide/a/x", oldCookie);
            assertEquals(200, viaOldCookie.status(), viaOldCookie.toString());
            assertEquals("A GET /x", viaOldCookie.body());
            RawHttp.Response viaOldLink = get(during, oldLink, null);
            assertEquals(303, viaOldLink.status(), viaOldLink.toString());
            String setCookie = viaOldLink.header("Set-Cookie");
            newCookie = setCookie.substring(0, setCookie.indexOf(';'));
            assertEquals("e2", JWT.decode(newCookie.substring(newCookie.indexOf('=') + 1)).getKeyId());
            assertEquals("ES256", JWT.decode(newCookie.substring(newCookie.indexOf('=') + 1)).getAlgorithm());
            assertEquals(200, get(during, CONTEXT + "/__ide/a/", newCookie).status());
        }
        // 3. After: k1 removed.
        IdeProxyConfig after = base()
                .set(ConfigOption.TOKEN_PRIVATE_KEY, Keys.pem(ec.getPrivate()))
                .set(ConfigOption.TOKEN_PUBLIC_KEY, Keys.pem(ec.getPublic()))
                .set(ConfigOption.TOKEN_KEY_ID, "e2")
                .build();
        try (Container.Running later = kind.start(CONTEXT, IdeProxy.builder(after).build())) {
            int seen = upstream.seen().size();
            RawHttp.Response viaOldCookie = get(later, CONTEXT + "/__ide/a/x", oldCookie);
            assertEquals(401, viaOldCookie.status());
            RawHttp.Response viaOldLink = get(later, oldLinkForLater, null);
            assertEquals(401, viaOldLink.status());
            assertTrue(viaOldLink.body().contains("the token was signed with an unknown key"), viaOldLink.body());
            assertEquals(seen, upstream.seen().size());
            assertEquals(200, get(later, CONTEXT + "/__ide/a/", newCookie).status(), "e2's cookie still works");
        }
    }
}

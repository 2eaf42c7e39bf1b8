package dev.ideproxy.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigException;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The host application's RS256 bearer tokens at the mint endpoint, with the key given as PEM. */
class BearerJwtPolicyTest {
    static final KeyPair PORTAL = rsa();

    static KeyPair rsa() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static String pem(KeyPair pair) {
        return "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(pair.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
    }

    static IdeProxyConfig.Builder config(String targets) {
        return IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_RS256_PUBLIC_KEY, pem(PORTAL))
                .set(ConfigOption.TARGETS, targets);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void rs256BearerTokensOpenOnlyTheirWorkspaces(Container kind) throws Exception {
        try (Upstream upstream = new Upstream("R");
             Container.Running server = kind.start("", IdeProxy.builder(config("w=" + upstream.uri()).build()).build())) {
            Browser browser = new Browser(server);
            String rs256 = JWT.create().withSubject("alice").withArrayClaim("workspaces", new String[] {"w"})
                    .withExpiresAt(Instant.now().plusSeconds(60))
                    .sign(Algorithm.RSA256((RSAPublicKey) PORTAL.getPublic(), (RSAPrivateKey) PORTAL.getPrivate()));
            assertEquals(200, browser.mint("w", "Bearer " + rs256).statusCode());

            KeyPair stranger = rsa();
            String foreign = JWT.create().withSubject("mallory").withArrayClaim("workspaces", new String[] {"w"})
                    .withExpiresAt(Instant.now().plusSeconds(60))
                    .sign(Algorithm.RSA256((RSAPublicKey) stranger.getPublic(), (RSAPrivateKey) stranger.getPrivate()));
            assertEquals(401, browser.mint("w", "Bearer " + foreign).statusCode(), "signed by another key");

            // Algorithm confusion: an HS256 token keyed with the public key's text must not pass.
            String confused = JWT.create().withSubject("mallory").withArrayClaim("workspaces", new String[] {"w"})
                    .withExpiresAt(Instant.now().plusSeconds(60)).sign(Algorithm.HMAC256(pem(PORTAL)));
            assertEquals(401, browser.mint("w", "Bearer " + confused).statusCode(), "HS256 with the public key");
            assertTrue(upstream.seen().isEmpty());
        }
    }

    @Test
    void unreadableOrNonRsaKeysStopStartUpWithAClearMessage() throws Exception {
        ConfigException garbage = assertThrows(ConfigException.class, () -> IdeProxy.builder(
                config("w=http://127.0.0.1:1").set(ConfigOption.AUTH_JWT_RS256_PUBLIC_KEY, "not a key").build()).build());
        assertTrue(garbage.getMessage().startsWith("ide-proxy.auth.jwt.rs256-public-key is not a readable RSA public key"),
                garbage.getMessage());
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(256);
        ConfigException notRsa = assertThrows(ConfigException.class, () -> IdeProxy.builder(
                config("w=http://127.0.0.1:1").set(ConfigOption.AUTH_JWT_RS256_PUBLIC_KEY, pem(ec.generateKeyPair())).build())
                .build());
        assertTrue(notRsa.getMessage().contains("not an RSA key"), notRsa.getMessage());
    }
}

package dev.ideproxy.internal.token;

import dev.ideproxy.token.InMemoryReplayStore;
import dev.ideproxy.token.InMemoryRevocationStore;
import dev.ideproxy.token.ReplayStore;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import dev.ideproxy.token.RevocationStore;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import dev.ideproxy.config.ConfigException;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Keys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key options: token.secret as before, key ids, asymmetric keys, retiring keys, and their errors. */
class TokenKeysConfigTest {
    static final String SECRET = "0123456789abcdef0123456789abcdef";
    static final String OLD_SECRET = "old-0123456789abcdef0123456789abcdef";

    static IdeProxyConfig.Builder base() {
        return IdeProxyConfig.builder();
    }

    static String message(IdeProxyConfig.Builder builder) {
        return assertThrows(ConfigException.class, () -> TokenKeys.from(builder.build())).getMessage();
    }

    @Test
    void tokenSecretAloneIsTheActiveHs256KeyWithTheDefaultKid() {
        TokenKeys keys = TokenKeys.from(base().set(ConfigOption.TOKEN_SECRET, SECRET).build());
        assertEquals(TokenKeys.DEFAULT_KEY_ID, keys.active().id());
        assertEquals("k1", keys.active().id());
        assertEquals("HS256", keys.active().algorithm().getName());
        assertEquals(List.of("k1"), keys.keyIds());
    }

    @Test
    void keyIdAndRetiringSecretsAndPublicKeys(@TempDir Path dir) throws Exception {
        KeyPair ec = Keys.ec("secp256r1");
        KeyPair rsa = Keys.rsa(2048);
        Path rsaPub = Files.writeString(dir.resolve("rsa.pub.pem"), Keys.pem(rsa.getPublic()));
        Path oldSecretFile = Files.writeString(dir.resolve("old.secret"), "file-secret-0123456789abcdef0123456789\n");
        TokenKeys keys = TokenKeys.from(base().set(ConfigOption.TOKEN_SECRET, SECRET)
                .set(ConfigOption.TOKEN_KEY_ID, "2030-01")
                .set(ConfigOption.TOKEN_VERIFICATION_KEYS, "k1=" + OLD_SECRET + ", e1=" + Keys.pem(ec.getPublic())
                        + ",r1=file:" + rsaPub + ",s2=file:" + oldSecretFile)
                .build());
        assertEquals(List.of("2030-01", "k1", "e1", "r1", "s2"), keys.keyIds());
        assertEquals("HS256", keys.find("k1").orElseThrow().algorithm().getName());
        assertEquals("ES256", keys.find("e1").orElseThrow().algorithm().getName());
        assertEquals("RS256", keys.find("r1").orElseThrow().algorithm().getName());
        assertFalse(keys.find("e1").orElseThrow().canSign());
    }

    @Test
    void asymmetricActiveKeyInlineOrFromFiles(@TempDir Path dir) throws Exception {
        KeyPair ec = Keys.ec("secp256r1");
        TokenKeys inline = TokenKeys.from(base().set(ConfigOption.TOKEN_PRIVATE_KEY, Keys.pem(ec.getPrivate()))
                .set(ConfigOption.TOKEN_PUBLIC_KEY, Keys.pem(ec.getPublic())).set(ConfigOption.TOKEN_KEY_ID, "e1").build());
        assertEquals("ES256", inline.active().algorithm().getName());
        KeyPair rsa = Keys.rsa(3072);
        Path priv = Files.writeString(dir.resolve("key.pem"), Keys.pem(rsa.getPrivate()));
        Path pub = Files.writeString(dir.resolve("pub.pem"), Keys.pem(rsa.getPublic()));
        IdeProxyConfig config = base().set(ConfigOption.TOKEN_PRIVATE_KEY, "file:" + priv)
                .set(ConfigOption.TOKEN_PUBLIC_KEY, "file:" + pub).build();
        assertNull(config.tokenSecret(), "no HS256 secret is needed");
        TokenKeys fromFiles = TokenKeys.from(config);
        assertEquals("RS256", fromFiles.active().algorithm().getName());
        String token = new TokenService(fromFiles, java.time.Duration.ofSeconds(60), java.time.Duration.ofHours(1),
                java.time.Duration.ofHours(2), new InMemoryReplayStore(10, java.time.Clock.systemUTC()),
                java.time.Clock.systemUTC()).mint(TokenType.BOOTSTRAP, "a", "alice").token();
        assertEquals("RS256", JWT.decode(token).getAlgorithm());
        assertFalse(config.toString().contains(Keys.pem(rsa.getPrivate()).substring(40, 80)));
    }

    @Test
    void errorsNameTheOptionAndNeverEchoKeyMaterial() {
        KeyPair ec = Keys.ec("secp256r1");
        KeyPair other = Keys.ec("secp256r1");
        String weak = "short-secret";
        String m;

        m = message(base().set(ConfigOption.TOKEN_SECRET, SECRET).set(ConfigOption.TOKEN_VERIFICATION_KEYS, "k0=" + weak));
        assertTrue(m.contains("ide-proxy.token.verification-keys") && m.contains("at least 32 bytes"), m);
        assertFalse(m.contains(weak), m);

        m = message(base().set(ConfigOption.TOKEN_SECRET, SECRET).set(ConfigOption.TOKEN_VERIFICATION_KEYS, "k1=" + OLD_SECRET));
        assertTrue(m.contains("'k1' is used twice"), m);
        assertFalse(m.contains(OLD_SECRET), m);

        m = message(base().set(ConfigOption.TOKEN_SECRET, SECRET).set(ConfigOption.TOKEN_VERIFICATION_KEYS, OLD_SECRET));
        assertTrue(m.contains("kid=secret"), m);
        assertFalse(m.contains(OLD_SECRET), m);

        m = message(base().set(ConfigOption.TOKEN_SECRET, SECRET)
                .set(ConfigOption.TOKEN_VERIFICATION_KEYS, "p1=" + Keys.pem(ec.getPrivate())));
        assertTrue(m.contains("not its private key"), m);

        m = message(base().set(ConfigOption.TOKEN_PRIVATE_KEY, Keys.pem(ec.getPrivate())));
        assertTrue(m.contains("ide-proxy.token.private-key needs ide-proxy.token.public-key"), m);

        m = message(base().set(ConfigOption.TOKEN_PRIVATE_KEY, Keys.pem(ec.getPrivate()))
                .set(ConfigOption.TOKEN_PUBLIC_KEY, Keys.pem(other.getPublic())));
        assertTrue(m.contains("does not match"), m);

        m = message(base().set(ConfigOption.TOKEN_PRIVATE_KEY, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .set(ConfigOption.TOKEN_PUBLIC_KEY, Keys.pem(ec.getPublic())));
        assertTrue(m.startsWith("ide-proxy.token.private-key: not an unencrypted PKCS#8"), m);

        m = message(base().set(ConfigOption.TOKEN_PRIVATE_KEY, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----")
                .set(ConfigOption.TOKEN_PUBLIC_KEY, Keys.pem(ec.getPublic())));
        assertTrue(m.contains("openssl pkcs8 -topk8"), m);

        m = message(base().set(ConfigOption.TOKEN_PRIVATE_KEY, "file:/nonexistent/key.pem")
                .set(ConfigOption.TOKEN_PUBLIC_KEY, Keys.pem(ec.getPublic())));
        assertTrue(m.contains("cannot read /nonexistent/key.pem"), m);

        KeyPair k256 = Keys.ec("secp384r1");
        m = message(base().set(ConfigOption.TOKEN_PRIVATE_KEY, Keys.pem(k256.getPrivate()))
                .set(ConfigOption.TOKEN_PUBLIC_KEY, Keys.pem(k256.getPublic())));
        assertTrue(m.contains("P-256"), m);

        KeyPair smallRsa = Keys.rsa(1024);
        m = message(base().set(ConfigOption.TOKEN_PRIVATE_KEY, Keys.pem(smallRsa.getPrivate()))
                .set(ConfigOption.TOKEN_PUBLIC_KEY, Keys.pem(smallRsa.getPublic())));
        assertTrue(m.contains("at least 2048 bits"), m);
    }

    @Test
    void configurationLevelChecks() {
        KeyPair ec = Keys.ec("secp256r1");
        ConfigException both = assertThrows(ConfigException.class, () -> base().set(ConfigOption.TOKEN_SECRET, SECRET)
                .set(ConfigOption.TOKEN_PRIVATE_KEY, Keys.pem(ec.getPrivate())).build());
        assertTrue(both.getMessage().startsWith("Set only one of ide-proxy.token.secret"), both.getMessage());
        ConfigException pubOnly = assertThrows(ConfigException.class, () -> base().set(ConfigOption.TOKEN_SECRET, SECRET)
                .set(ConfigOption.TOKEN_PUBLIC_KEY, Keys.pem(ec.getPublic())).build());
        assertTrue(pubOnly.getMessage().contains("without ide-proxy.token.private-key"), pubOnly.getMessage());
        ConfigException kid = assertThrows(ConfigException.class, () -> base().set(ConfigOption.TOKEN_SECRET, SECRET)
                .set(ConfigOption.TOKEN_KEY_ID, "has space").build());
        assertTrue(kid.getMessage().startsWith("ide-proxy.token.key-id must be"), kid.getMessage());
        ConfigException missing = assertThrows(ConfigException.class, () -> base().build());
        assertTrue(missing.getMessage().startsWith("ide-proxy.token.secret is not set"), missing.getMessage());
        assertTrue(missing.getMessage().contains("ide-proxy.token.private-key"), missing.getMessage());
        ConfigException capacity = assertThrows(ConfigException.class, () -> base().set(ConfigOption.TOKEN_SECRET, SECRET)
                .set(ConfigOption.TOKEN_REPLAY_CAPACITY, "0").build());
        assertTrue(capacity.getMessage().contains("ide-proxy.token.replay-capacity"), capacity.getMessage());
    }

    @Test
    void toStringHidesKeyOptions() {
        String text = base().set(ConfigOption.TOKEN_SECRET, SECRET)
                .set(ConfigOption.TOKEN_VERIFICATION_KEYS, "k0=" + OLD_SECRET).build().toString();
        assertFalse(text.contains(OLD_SECRET), text);
        assertFalse(text.contains(SECRET), text);
    }
}

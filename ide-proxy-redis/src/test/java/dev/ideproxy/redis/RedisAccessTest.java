package dev.ideproxy.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.config.ConfigException;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Who may connect and what start-up says when it cannot: a password, an ACL user limited to the key
 * prefix (the line docs/security.md gives), a wrong password, a user without the permissions, an
 * unreachable Redis, a malformed URI: each a {@link ConfigException} of one line naming
 * {@code ide-proxy.store.redis-uri}, never holding the password. Closing leaves no thread.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisAccessTest {
    static final String PASSWORD = "default-password-0123456789";
    static final String ACL_PASSWORD = "acl-password-0123456789";
    /** The ACL of docs/security.md ("Redis"), with the password of the tests. */
    static final String ACL = "ide-proxy on >" + ACL_PASSWORD + " resetkeys ~ide-proxy:* resetchannels"
            + " &ide-proxy:revocations -@all +hello +auth +ping +select +client|setname +set +get +pttl +scan"
            + " +publish +subscribe +eval +hget +hset +hdel +hgetall +pexpire +zadd +zrangebyscore +zremrangebyscore";
    static final String OPTION = ConfigOption.STORE_REDIS_URI.key();
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private RedisServer redis;

    @BeforeAll
    void start() throws Exception {
        redis = RedisServer.start(PASSWORD, List.of(ACL,
                "elsewhere on >" + ACL_PASSWORD + " resetkeys ~other:* resetchannels &other:* +@all"));
    }

    @AfterAll
    void stop() throws Exception {
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void aPasswordWorks() throws Exception {
        try (RedisStores stores = RedisStores.connect(redis.uri(), TIMEOUT)) {
            assertTrue(stores.replayStore().markUsed(UUID.randomUUID().toString(), Instant.now().plusSeconds(60)));
        }
    }

    @Test
    void anAclUserLimitedToThePrefixWorks() throws Exception {
        String uri = redis.uri("ide-proxy", ACL_PASSWORD) + "/0";
        try (RedisStores one = RedisStores.connect(uri, TIMEOUT); RedisStores two = RedisStores.connect(uri, TIMEOUT)) {
            String id = UUID.randomUUID().toString();
            assertTrue(one.replayStore().markUsed(id, Instant.now().plusSeconds(60)));
            assertFalse(two.replayStore().markUsed(id, Instant.now().plusSeconds(60)));
            Instant at = Instant.now();
            one.revocationStore().revoke("w", "alice", at, at.plusSeconds(3600));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!at.equals(two.revocationStore().revokedAt("w", "alice")) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(at, two.revocationStore().revokedAt("w", "alice"));
        }
    }

    @Test
    void aWrongPasswordFailsStartUpWithOneLineNamingTheOption() {
        String wrong = "wrong-password-0123456789";
        ConfigException e = assertThrows(ConfigException.class,
                () -> RedisStores.connect("redis://" + wrong + "@127.0.0.1:" + redis.port(), TIMEOUT));
        assertOneLineNamingTheOption(e, wrong);
        assertTrue(e.getMessage().contains("refused the credentials"), e.getMessage());

        ConfigException user = assertThrows(ConfigException.class,
                () -> RedisStores.connect(redis.uri("ide-proxy", wrong), TIMEOUT));
        assertOneLineNamingTheOption(user, wrong);
        assertTrue(user.getMessage().contains("refused the credentials"), user.getMessage());

        ConfigException none = assertThrows(ConfigException.class,
                () -> RedisStores.connect("redis://127.0.0.1:" + redis.port(), TIMEOUT));
        assertOneLineNamingTheOption(none, PASSWORD);
        assertTrue(none.getMessage().contains("refused the credentials"), none.getMessage());
    }

    @Test
    void aUserWithoutAccessToThePrefixFailsStartUp() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> RedisStores.connect(redis.uri("elsewhere", ACL_PASSWORD), TIMEOUT));
        assertOneLineNamingTheOption(e, ACL_PASSWORD);
        assertTrue(e.getMessage().contains("NOPERM"), e.getMessage());
    }

    @Test
    void anUnreachableRedisFailsStartUp() throws Exception {
        int nobody;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            nobody = socket.getLocalPort();
        }
        String secret = "unused-password-0123456789";
        long start = System.nanoTime();
        ConfigException e = assertThrows(ConfigException.class,
                () -> RedisStores.connect("redis://user:" + secret + "@127.0.0.1:" + nobody, TIMEOUT));
        assertOneLineNamingTheOption(e, secret);
        assertTrue(e.getMessage().contains("cannot reach Redis at 127.0.0.1:" + nobody), e.getMessage());
        assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) < 30, "failed promptly");
    }

    @Test
    void aMalformedUriOrTimeoutFailsStartUp() {
        String secret = "malformed-password-0123456789";
        ConfigException e = assertThrows(ConfigException.class,
                () -> RedisStores.connect("http://user:" + secret + "@127.0.0.1:6379", TIMEOUT));
        assertOneLineNamingTheOption(e, secret);

        IdeProxyConfig badTimeout = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, "a-secret-for-the-tests-0123456789abcdefgh")
                .set(ConfigOption.STORE_REDIS_URI, redis.uri())
                .set(ConfigOption.STORE_REDIS_TIMEOUT, "soon")
                .build();
        ConfigException timeout = assertThrows(ConfigException.class, () -> RedisStores.connect(badTimeout));
        assertTrue(timeout.getMessage().startsWith(ConfigOption.STORE_REDIS_TIMEOUT.key()), timeout.getMessage());
    }

    @Test
    void theConfigurationDecides() throws Exception {
        IdeProxyConfig.Builder config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, "a-secret-for-the-tests-0123456789abcdefgh");
        assertTrue(RedisStores.connect(config.build()).isEmpty(), "no URI, no Redis");
        try (RedisStores stores = RedisStores.connect(config.set(ConfigOption.STORE_REDIS_URI, redis.uri())
                .set(ConfigOption.STORE_REDIS_TIMEOUT, "750ms").build()).orElseThrow()) {
            assertTrue(stores.replayStore().markUsed(UUID.randomUUID().toString(), Instant.now().plusSeconds(60)));
        }
    }

    @Test
    void closingLeavesNoThreadBehind() throws Exception {
        Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
        RedisStores stores = RedisStores.connect(redis.uri(), TIMEOUT);
        stores.replayStore().markUsed(UUID.randomUUID().toString(), Instant.now().plusSeconds(60));
        stores.revocationStore().revoke("w", "threads", Instant.now(), Instant.now().plusSeconds(60));
        Set<Thread> started = new HashSet<>(Thread.getAllStackTraces().keySet());
        started.removeAll(before);
        assertFalse(started.isEmpty(), "the stores run threads");
        stores.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        started.removeIf(t -> !t.isAlive());
        while (!started.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            started.removeIf(t -> !t.isAlive());
        }
        assertTrue(started.isEmpty(), "threads left after close: " + started);
    }

    static void assertOneLineNamingTheOption(ConfigException e, String secret) {
        String message = e.getMessage();
        assertTrue(message.startsWith(OPTION + ": ") || message.startsWith(OPTION + " "), message);
        assertFalse(message.contains(secret), "the password is in the message: " + message.replace(secret, "<SECRET>"));
        assertFalse(message.contains("\n") || message.contains("\r"), "one line: " + message);
        System.out.println("start-up refused: " + message);
    }
}

package dev.ideproxy.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.config.ConfigException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Start-up against a Redis whose connections drop as they carry the first command after the
 * handshake (through {@link DroppingFront}): a drop Lettuce reconnects from does not stop the node;
 * a Redis that drops every connection does, promptly, with the one line of an unreachable Redis.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisStartUpTest {
    private static final String PASSWORD = "start-up-password-0123456789";
    private RedisServer redis;

    @BeforeAll
    void start() throws Exception {
        redis = RedisServer.start(PASSWORD, List.of());
    }

    @AfterAll
    void stop() throws Exception {
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void aConnectionDroppedAtItsFirstCommandIsReconnectedAndTheStartGoesOn() throws Exception {
        try (DroppingFront front = DroppingFront.start(redis.port(), "PING", 1);
             RedisStores stores = RedisStores.connect(front.uri(PASSWORD), RedisStores.DEFAULT_COMMAND_TIMEOUT)) {
            assertEquals(1, front.dropped(), "the start-up check's connection was dropped once");
            String id = UUID.randomUUID().toString();
            assertTrue(stores.replayStore().markUsed(id, Instant.now().plusSeconds(60)), "first use");
            assertFalse(stores.replayStore().markUsed(id, Instant.now().plusSeconds(60)), "second use");
        }
    }

    @Test
    void aRedisThatDropsEveryConnectionFailsTheStartPromptly() throws Exception {
        try (DroppingFront front = DroppingFront.start(redis.port(), "PING", Integer.MAX_VALUE)) {
            long start = System.nanoTime();
            ConfigException e = assertThrows(ConfigException.class,
                    () -> RedisStores.connect(front.uri(PASSWORD), RedisStores.DEFAULT_COMMAND_TIMEOUT));
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
            assertTrue(e.getMessage().startsWith("ide-proxy.store.redis-uri: cannot reach Redis at 127.0.0.1:"),
                    e.getMessage());
            assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
            assertTrue(front.dropped() >= 2, "tried again: " + front.dropped());
            assertTrue(seconds < 15, "failed after " + seconds + " s");
        }
    }
}

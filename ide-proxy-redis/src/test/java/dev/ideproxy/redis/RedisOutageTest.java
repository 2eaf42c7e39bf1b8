package dev.ideproxy.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ideproxy.testing.LogCapture;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Redis goes away and comes back (killed, then started again on the same port, empty): the stores
 * fail closed at once (a token is never accepted unmarked, revocations cannot be read), log one WARN
 * line for the outage and one INFO line on recovery, and work again without a new store or a restart.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RedisOutageTest {
    private static final String PASSWORD = "outage-password-0123456789";
    /** The default, as configured in production. */
    private static final Duration TIMEOUT = RedisStores.DEFAULT_COMMAND_TIMEOUT;
    private static final Duration RECOVERY = Duration.ofSeconds(30);

    @Test
    void storesFailClosedDuringAnOutageAndRecoverByThemselves() throws Exception {
        try (RedisServer redis = RedisServer.start(PASSWORD, List.of());
             RedisStores stores = RedisStores.connect(redis.uri(), TIMEOUT);
             RedisStores other = RedisStores.connect(redis.uri(), TIMEOUT);
             LogCapture log = LogCapture.start()) {
            AtomicInteger listenerCalls = new AtomicInteger();
            stores.revocationStore().addRevocationListener(listenerCalls::incrementAndGet);
            assertTrue(stores.replayStore().markUsed(UUID.randomUUID().toString(), Instant.now().plusSeconds(60)));
            Instant before = Instant.now();
            stores.revocationStore().revoke("w", "known-before", before, before.plusSeconds(3600));
            int mark = log.mark();

            redis.stop();

            for (int i = 0; i < 10; i++) {
                long start = System.nanoTime();
                ReplayStoreUnavailableException e = assertThrows(ReplayStoreUnavailableException.class,
                        () -> stores.replayStore().markUsed(UUID.randomUUID().toString(), Instant.now().plusSeconds(60)));
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertTrue(millis < TIMEOUT.toMillis() + 1_500, "failed after " + millis + " ms");
                assertFalse(e.getMessage().contains(PASSWORD), e.getMessage());
            }
            awaitUnavailable(stores.revocationStore());
            RevocationStoreUnavailableException refused = assertThrows(RevocationStoreUnavailableException.class,
                    () -> stores.revocationStore().revokedAt("w", "anyone"));
            assertTrue(refused.getMessage().contains("revocations cannot be checked"), refused.getMessage());
            assertThrows(RevocationStoreUnavailableException.class,
                    () -> stores.revocationStore().revoke("w", "during", Instant.now(), Instant.now().plusSeconds(60)));

            // Two nodes in this JVM (stores and other): one line each, however many requests failed.
            List<String> warnings = matching(log.since(mark), "WARN", "is unavailable");
            assertEquals(2, warnings.size(), "one WARN line per outage and node: " + log.since(mark));
            assertTrue(warnings.get(0).contains("127.0.0.1:" + redis.port()), warnings.get(0));

            int calls = listenerCalls.get();
            redis.restart(); // same port, empty

            long deadline = System.nanoTime() + RECOVERY.toNanos();
            boolean marked = false;
            while (!marked && System.nanoTime() < deadline) {
                try {
                    marked = stores.replayStore().markUsed(UUID.randomUUID().toString(), Instant.now().plusSeconds(60));
                } catch (ReplayStoreUnavailableException e) {
                    Thread.sleep(100);
                }
            }
            assertTrue(marked, "marks tokens again without a new store");
            while (!stores.revocationStore().isSynchronised() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertNull(stores.revocationStore().revokedAt("w", "anyone"), "revocations can be read again");
            assertEquals(before, stores.revocationStore().revokedAt("w", "known-before"),
                    "a node keeps what it knew, though the restarted Redis lost it");
            while (listenerCalls.get() == calls && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(listenerCalls.get() > calls, "listeners are called after the re-synchronisation");

            // Revocations flow again between nodes.
            while (!other.revocationStore().isSynchronised() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Instant at = Instant.now();
            other.revocationStore().revoke("w", "after", at, at.plusSeconds(3600));
            while (!at.equals(stores.revocationStore().revokedAt("w", "after")) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(at, stores.revocationStore().revokedAt("w", "after"));

            List<String> since = log.since(mark);
            assertEquals(2, matching(since, "WARN", "is unavailable").size(), "still one WARN line per node: " + since);
            awaitLines(log, mark, "INFO", "is available again", 2);
            assertEquals(2, matching(log.since(mark), "INFO", "is available again").size(),
                    "one INFO line per node: " + log.since(mark));
            assertEquals(List.of(), LogCapture.leaks(log.lines(), List.of(PASSWORD)), "the password in a log line");
        }
    }

    private static void awaitUnavailable(RedisRevocationStore store) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try {
                store.revokedAt("w", "anyone");
            } catch (RevocationStoreUnavailableException e) {
                return;
            }
            Thread.sleep(10);
        }
        fail("revokedAt still answers with Redis gone");
    }

    private static void awaitLines(LogCapture log, int mark, String level, String text, int count)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (matching(log.since(mark), level, text).size() < count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    private static List<String> matching(List<String> lines, String level, String text) {
        return lines.stream().filter(l -> l.contains(" " + level + " ") && l.contains(text)).toList();
    }
}

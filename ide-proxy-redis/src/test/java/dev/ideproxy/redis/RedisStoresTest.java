package dev.ideproxy.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.token.ReplayStoreUnavailableException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The two stores against a real redis-server, as two nodes ("A" and "B": two {@link RedisStores} on
 * one Redis) see them: single use across nodes, revocations pushed to the other node within a
 * second, keys that expire, and what Redis holds (ids only) and how much memory it takes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisStoresTest {
    /** Generous: this machine may be busy; timeouts are tested in RedisOutageTest. */
    private static final Duration TIMEOUT = Duration.ofSeconds(5);
    private RedisServer redis;
    private RedisStores a;
    private RedisStores b;

    @BeforeAll
    void start() throws Exception {
        redis = RedisServer.start();
        a = RedisStores.connect(redis.uri(), TIMEOUT);
        b = RedisStores.connect(redis.uri(), TIMEOUT);
    }

    @AfterAll
    void stop() throws Exception {
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void aTokenIsUsedOnceAcrossNodesAndItsKeyExpiresWithIt() throws Exception {
        String id = UUID.randomUUID().toString();
        Instant expiresAt = Instant.now().plusSeconds(60);
        assertTrue(a.replayStore().markUsed(id, expiresAt), "first use");
        assertFalse(a.replayStore().markUsed(id, expiresAt), "second use, same node");
        assertFalse(b.replayStore().markUsed(id, expiresAt), "second use, other node");

        String key = "ide-proxy:used:" + id;
        assertEquals("1", redis.admin().get(key), "the key holds the id only, never the token");
        long pttl = redis.admin().pttl(key);
        long remaining = Duration.between(Instant.now(), expiresAt).toMillis();
        assertTrue(pttl > remaining - 5_000 && pttl <= remaining + 1_000,
                "PTTL " + pttl + " ms, token's remaining life " + remaining + " ms");
    }

    @Test
    void aTokenPastItsExpiryIsNotKept() throws Exception {
        String id = UUID.randomUUID().toString();
        assertTrue(a.replayStore().markUsed(id, Instant.now().plusMillis(300)));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (redis.admin().exists("ide-proxy:used:" + id) == 1 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, redis.admin().exists("ide-proxy:used:" + id), "expired with the token");
    }

    @Test
    void twoHundredConcurrentUsesOfOneTokenOnTwoNodesExactlyOneWins() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            for (int round = 0; round < 3; round++) {
                String id = UUID.randomUUID().toString();
                Instant expiresAt = Instant.now().plusSeconds(60);
                CountDownLatch go = new CountDownLatch(1);
                List<Future<Boolean>> results = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    RedisReplayStore store = (i % 2 == 0 ? a : b).replayStore();
                    results.add(pool.submit(() -> {
                        go.await();
                        return store.markUsed(id, expiresAt);
                    }));
                }
                go.countDown();
                int won = 0;
                for (Future<Boolean> result : results) {
                    if (result.get(60, TimeUnit.SECONDS)) {
                        won++;
                    }
                }
                assertEquals(1, won, "round " + round + ": exactly one of 200 uses succeeds");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aRevocationOnOneNodeReachesTheOtherWithinASecondAndItsListener() throws Exception {
        LinkedBlockingQueue<String> calls = new LinkedBlockingQueue<>();
        b.revocationStore().addRevocationListener(() -> calls.add(Thread.currentThread().getName()));
        calls.clear();
        String user = "alice-" + UUID.randomUUID();
        assertNull(b.revocationStore().revokedAt("w1", user));
        Instant at = Instant.now();
        Instant forgetAfter = at.plus(Duration.ofHours(12));

        long start = System.nanoTime();
        a.revocationStore().revoke("w1", user, at, forgetAfter);
        assertEquals(at, a.revocationStore().revokedAt("w1", user), "the revoking node knows at once");
        Instant seen = null;
        while (seen == null && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(1)) {
            seen = b.revocationStore().revokedAt("w1", user);
            if (seen == null) {
                Thread.sleep(5);
            }
        }
        long seenAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertEquals(at, seen, "the other node within 1 s (" + seenAfter + " ms)");
        String thread = calls.poll(Math.max(1, 1000 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)),
                TimeUnit.MILLISECONDS);
        assertNotNull(thread, "the other node's listener was called within 1 s");
        assertEquals("ide-proxy-redis-revocations", thread, "listeners run on the store's own thread");

        // Other users and workspaces are not affected; the key holds the instant and expires at forgetAfter.
        assertNull(b.revocationStore().revokedAt("w1", "bob"));
        assertNull(b.revocationStore().revokedAt("w2", user));
        String key = "ide-proxy:revoked:w1:" + user;
        assertEquals(at.toString(), redis.admin().get(key));
        long pttl = redis.admin().pttl(key);
        long expected = Duration.between(Instant.now(), forgetAfter).toMillis();
        assertTrue(Math.abs(pttl - expected) < 5_000, "PTTL " + pttl + " ms, forgetAfter in " + expected + " ms");
    }

    @Test
    void workspaceWideAndUserWideRevocationsApplyAndTheLatestWins() throws Exception {
        String w = "w-" + UUID.randomUUID();
        String user = "carol-" + UUID.randomUUID();
        Instant t1 = Instant.now().minusSeconds(10);
        Instant t2 = t1.plusSeconds(5);
        Instant forget = Instant.now().plus(Duration.ofHours(1));
        a.revocationStore().revoke(w, null, t1, forget);
        a.revocationStore().revoke(null, user, t2, forget);
        awaitRevoked(b.revocationStore(), w, "anyone", t1);
        awaitRevoked(b.revocationStore(), "elsewhere", user, t2);
        assertEquals(t2, b.revocationStore().revokedAt(w, user), "the later of the two applies");
        assertEquals(t1.toString(), redis.admin().get("ide-proxy:revoked:" + w + ":*"));
        assertEquals(t2.toString(), redis.admin().get("ide-proxy:revoked:*:" + user));
    }

    @Test
    void idsWithSeparatorsCannotStandForOthers() throws Exception {
        String tag = UUID.randomUUID().toString();
        Instant at = Instant.now();
        Instant forget = at.plus(Duration.ofHours(1));
        // Workspace "x", user "y:z" must not revoke workspace "x:y", user "z"; a user named "*" is not "every user".
        a.revocationStore().revoke("x" + tag, "y:z", at, forget);
        a.revocationStore().revoke("v" + tag, "*", at, forget);
        awaitRevoked(b.revocationStore(), "x" + tag, "y:z", at);
        awaitRevoked(b.revocationStore(), "v" + tag, "*", at);
        assertNull(b.revocationStore().revokedAt("x" + tag + ":y", "z"));
        assertNull(b.revocationStore().revokedAt("v" + tag, "dave"), "a user named * is one user");
        assertEquals(at.toString(), redis.admin().get("ide-proxy:revoked:x" + tag + ":y%3Az"));
        assertEquals(at.toString(), redis.admin().get("ide-proxy:revoked:v" + tag + ":%2A"));
    }

    @Test
    void aNodeStartedAfterARevocationKnowsItAndForgetsItAtForgetAfter() throws Exception {
        String user = "erin-" + UUID.randomUUID();
        String kept = "grace-" + UUID.randomUUID();
        Instant at = Instant.now();
        a.revocationStore().revoke("w1", kept, at, at.plus(Duration.ofHours(1)));
        a.revocationStore().revoke("w1", user, at, Instant.now().plusSeconds(2));
        try (RedisStores late = RedisStores.connect(redis.uri(), TIMEOUT)) {
            assertEquals(at, late.revocationStore().revokedAt("w1", kept), "read at start");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (late.revocationStore().revokedAt("w1", user) != null && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertNull(late.revocationStore().revokedAt("w1", user), "forgotten after forgetAfter");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (redis.admin().exists("ide-proxy:revoked:w1:" + user) == 1 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, redis.admin().exists("ide-proxy:revoked:w1:" + user), "the key expired at forgetAfter");
    }

    @Test
    void aRevocationIsReadAgainWhenItsMessageWasMissed() throws Exception {
        // Written by someone else without a message (as if it were missed): the periodic re-read finds it.
        try (RedisStores quick = RedisStores.builder(redis.uri()).commandTimeout(TIMEOUT)
                .resyncInterval(Duration.ofMillis(200)).connect()) {
            AtomicInteger calls = new AtomicInteger();
            quick.revocationStore().addRevocationListener(calls::incrementAndGet);
            Instant at = Instant.now();
            redis.admin().set("ide-proxy:revoked:silent:frank", at.toString());
            redis.admin().pexpire("ide-proxy:revoked:silent:frank", 60_000);
            awaitRevoked(quick.revocationStore(), "silent", "frank", at);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (calls.get() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(calls.get() > 0, "the listener was called after the re-read found something new");
        }
    }

    @Test
    void closingStopsEveryThread() throws Exception {
        RedisStores stores = RedisStores.connect(redis.uri(), TIMEOUT);
        assertTrue(stores.replayStore().markUsed(UUID.randomUUID().toString(), Instant.now().plusSeconds(60)));
        stores.close();
        stores.close(); // idempotent
        // Every other RedisStores of this class is still open: count only threads that belong to none of them.
        assertThrows(ReplayStoreUnavailableException.class,
                () -> stores.replayStore().markUsed(UUID.randomUUID().toString(), Instant.now().plusSeconds(60)));
        assertThrows(RevocationStoreUnavailableException.class, () -> stores.revocationStore().revokedAt("w", "u"));
    }

    @Test
    void memoryPerUsedTokenAndPerRevocation() throws Exception {
        String id = UUID.randomUUID().toString(); // a jti as ide-proxy mints it
        a.replayStore().markUsed(id, Instant.now().plusSeconds(60));
        a.revocationStore().revoke("workspace-42", "alice@example.com", Instant.now(), Instant.now().plus(Duration.ofHours(12)));
        Long used = redis.admin().memoryUsage("ide-proxy:used:" + id);
        Long revoked = redis.admin().memoryUsage("ide-proxy:revoked:workspace-42:alice@example.com");
        System.out.println("MEMORY USAGE: used token " + used + " bytes, revocation " + revoked + " bytes");
        assertTrue(used != null && used <= 256, "a used token takes " + used + " bytes");
        assertTrue(revoked != null && revoked <= 256, "a revocation takes " + revoked + " bytes");
    }

    private static void awaitRevoked(RedisRevocationStore store, String workspace, String user, Instant expected)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Instant seen = store.revokedAt(workspace, user);
        while (!expected.equals(seen) && System.nanoTime() < deadline) {
            Thread.sleep(10);
            seen = store.revokedAt(workspace, user);
        }
        assertEquals(expected, seen, workspace + "/" + user);
    }
}

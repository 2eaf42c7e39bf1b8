package dev.ideproxy.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class InMemoryReplayStoreTest {
    final Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
    final MutableClock clock = new MutableClock(t0);

    @Test
    void firstUseOnlyIsTrue() throws Exception {
        InMemoryReplayStore store = new InMemoryReplayStore(10, clock);
        assertTrue(store.markUsed("a", t0.plusSeconds(60)));
        assertFalse(store.markUsed("a", t0.plusSeconds(60)));
        assertFalse(store.markUsed("a", t0.plusSeconds(120)), "a later expiry does not make it new");
        assertTrue(store.markUsed("b", t0.plusSeconds(60)));
    }

    @Test
    void rememberedUntilExpiryThenForgotten() throws Exception {
        InMemoryReplayStore store = new InMemoryReplayStore(10, clock);
        store.markUsed("a", t0.plusSeconds(60));
        clock.set(t0.plusSeconds(60).minusMillis(1));
        assertFalse(store.markUsed("a", t0.plusSeconds(60)), "still valid one millisecond before expiry");
        clock.set(t0.plusSeconds(60));
        // At its expiry the token no longer verifies (java-jwt: valid while now < exp), so forgetting is safe.
        assertTrue(store.markUsed("a", t0.plusSeconds(60)));
    }

    @Test
    void fullStoreFailsClosedAndRecoversAsIdsExpire() throws Exception {
        InMemoryReplayStore store = new InMemoryReplayStore(3, clock);
        store.markUsed("a", t0.plusSeconds(10));
        store.markUsed("b", t0.plusSeconds(20));
        store.markUsed("c", t0.plusSeconds(30));
        ReplayStoreUnavailableException full = assertThrows(ReplayStoreUnavailableException.class,
                () -> store.markUsed("d", t0.plusSeconds(60)));
        assertTrue(full.getMessage().contains("full"), full.getMessage());
        assertFalse(store.markUsed("a", t0.plusSeconds(10)), "a used id is still refused when full");
        clock.advance(Duration.ofSeconds(10));
        assertTrue(store.markUsed("d", t0.plusSeconds(60)), "a's expiry made room");
        assertEquals(3, store.size());
        assertFalse(store.markUsed("b", t0.plusSeconds(20)), "never forgets an unexpired id to make room");
    }

    @Test
    void manyThreadsOnOneIdGetExactlyOneTrue() throws Exception {
        InMemoryReplayStore store = new InMemoryReplayStore(1000, clock);
        int threads = 32;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 200; round++) {
                String id = "id-" + round;
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<Boolean>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    results.add(pool.submit(() -> {
                        start.await(5, TimeUnit.SECONDS);
                        return store.markUsed(id, t0.plusSeconds(60));
                    }));
                }
                int wins = 0;
                for (Future<Boolean> f : results) {
                    wins += f.get(10, TimeUnit.SECONDS) ? 1 : 0;
                }
                assertEquals(1, wins, "round " + round);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void manyThreadsOnOverlappingIdsEachIdWinsOnce() throws Exception {
        InMemoryReplayStore store = new InMemoryReplayStore(100_000, clock);
        int threads = 16;
        int ids = 20_000;
        ConcurrentHashMap<String, AtomicInteger> wins = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int offset = t * 997;
            done.add(pool.submit(() -> {
                start.await(5, TimeUnit.SECONDS);
                for (int i = 0; i < ids; i++) {
                    String id = "id-" + ((i + offset) % ids);
                    if (store.markUsed(id, t0.plusSeconds(60))) {
                        wins.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(60, TimeUnit.SECONDS);
        }
        pool.shutdownNow();
        assertEquals(ids, wins.size(), "every id was marked by someone");
        assertTrue(wins.values().stream().allMatch(w -> w.get() == 1), "no id was marked twice");
        assertEquals(ids, store.size());
    }

    @Test
    void capacityMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new InMemoryReplayStore(0, clock));
    }
}

package dev.ideproxy.token;

import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * The default {@link ReplayStore}: used token ids in memory, each remembered until its token expires,
 * at most {@code capacity} at once. Right for a single node; several nodes need a shared store.
 *
 * <p><b>When full</b> (as many unexpired ids as its capacity, which takes that many bootstraps within
 * one token lifetime), {@link #markUsed} throws {@link ReplayStoreUnavailableException}: bootstraps
 * are refused with 503 until the oldest ids expire. It never forgets an unexpired id to make room,
 * since that would let a used link work again. Expired ids are dropped as new ones arrive.
 *
 * <p>Memory: about 200 bytes per remembered id. Thread-safe: {@link #markUsed} is one critical
 * section (a hash lookup and a heap insertion), so concurrent uses of one id are decided exactly once.
 */
public final class InMemoryReplayStore implements ReplayStore {
    private final int capacity;
    private final Clock clock;
    private final Map<String, Instant> used = new HashMap<>();
    private final PriorityQueue<Entry> byExpiry = new PriorityQueue<>();

    private record Entry(Instant expiresAt, String tokenId) implements Comparable<Entry> {
        @Override
        public int compareTo(Entry o) {
            return expiresAt.compareTo(o.expiresAt);
        }
    }

    /**
     * @param capacity most ids remembered at once (at least 1)
     * @param clock    the time source that also decides token expiry
     */
    public InMemoryReplayStore(int capacity, Clock clock) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1");
        }
        this.capacity = capacity;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public synchronized boolean markUsed(String tokenId, Instant expiresAt) throws ReplayStoreUnavailableException {
        Objects.requireNonNull(tokenId, "tokenId");
        Objects.requireNonNull(expiresAt, "expiresAt");
        forgetExpired(clock.instant());
        if (used.containsKey(tokenId)) {
            return false;
        }
        if (used.size() >= capacity) {
            throw new ReplayStoreUnavailableException("the replay store is full (" + capacity
                    + " unexpired token ids); raise ide-proxy.token.replay-capacity or shorten ide-proxy.token.ttl");
        }
        used.put(tokenId, expiresAt);
        byExpiry.add(new Entry(expiresAt, tokenId));
        return true;
    }

    /** How many ids are remembered now (expired ones included until the next {@link #markUsed}). */
    public synchronized int size() {
        return used.size();
    }

    public int capacity() {
        return capacity;
    }

    /** A token is valid while now is before its expiry, so its id may go once now reaches it. */
    private void forgetExpired(Instant now) {
        Entry oldest;
        while ((oldest = byExpiry.peek()) != null && !now.isBefore(oldest.expiresAt())) {
            byExpiry.poll();
            used.remove(oldest.tokenId());
        }
    }
}

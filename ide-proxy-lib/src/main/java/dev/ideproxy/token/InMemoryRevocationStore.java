package dev.ideproxy.token;

import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The default {@link RevocationStore}: revocations in memory, each kept until no session it ends could
 * still be valid (one session maximum lifetime). Right for a single node, and lost with the process: a
 * restart makes revoked cookies valid again until they expire (a shared store that persists avoids
 * that). Expired entries are dropped whenever a new one arrives. A lookup with no revocation recorded
 * costs one emptiness check.
 *
 * <p><b>Bounded</b> ({@value #DEFAULT_CAPACITY} entries by default), since anyone allowed on a workspace
 * may revoke its sessions user by user: when full, the per-user revocations of the workspace that has
 * most of them are merged into one revocation of every user of that workspace, at the latest of their
 * instants (more is revoked, never less). When nothing can be merged, {@link #revoke} fails with
 * {@link IllegalStateException}.
 *
 * <p>Thread-safe.
 */
public final class InMemoryRevocationStore implements RevocationStore {
    private static final String ANY = "\u0000*";
    /** Entries kept at most, unless given otherwise. */
    public static final int DEFAULT_CAPACITY = 10_000;

    private final Clock clock;
    private final int capacity;
    private final ConcurrentHashMap<Key, Entry> entries = new ConcurrentHashMap<>();

    private record Key(String workspaceId, String user) {
    }

    private record Entry(Instant at, Instant forgetAfter) {
    }

    /** @param clock the time source that also decides token expiry */
    public InMemoryRevocationStore(Clock clock) {
        this(clock, DEFAULT_CAPACITY);
    }

    /**
     * @param clock    the time source that also decides token expiry
     * @param capacity most entries kept at once (at least 1)
     */
    public InMemoryRevocationStore(Clock clock, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1");
        }
        this.clock = Objects.requireNonNull(clock, "clock");
        this.capacity = capacity;
    }

    @Override
    public void revoke(String workspaceId, String user, Instant at, Instant forgetAfter) {
        if (workspaceId == null && user == null) {
            throw new IllegalArgumentException("name a workspace, a user or both");
        }
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(forgetAfter, "forgetAfter");
        Instant now = clock.instant();
        Key key = new Key(orAny(workspaceId), orAny(user));
        synchronized (this) {
            entries.values().removeIf(e -> !now.isBefore(e.forgetAfter()));
            if (!entries.containsKey(key) && entries.size() >= capacity && !mergeBusiestWorkspace()) {
                throw new IllegalStateException("the revocation store is full (" + capacity + " revocations)");
            }
            entries.merge(key, new Entry(at, forgetAfter), InMemoryRevocationStore::combine);
        }
    }

    /**
     * Replaces the per-user entries of the workspace with most of them by one entry for every user of
     * it. Called when full, under the lock.
     *
     * @return true when that made room
     */
    private boolean mergeBusiestWorkspace() {
        java.util.Map<String, Integer> perUser = new java.util.HashMap<>();
        for (Key k : entries.keySet()) {
            if (!k.workspaceId().equals(ANY) && !k.user().equals(ANY)) {
                perUser.merge(k.workspaceId(), 1, Integer::sum);
            }
        }
        String busiest = null;
        int most = 0;
        for (java.util.Map.Entry<String, Integer> e : perUser.entrySet()) {
            if (e.getValue() > most) {
                busiest = e.getKey();
                most = e.getValue();
            }
        }
        Key everyone = busiest == null ? null : new Key(busiest, ANY);
        if (everyone == null || (most == 1 && !entries.containsKey(everyone))) {
            return false; // merging one entry into a new one frees nothing
        }
        String workspace = busiest;
        java.util.List<Key> merging = entries.keySet().stream()
                .filter(k -> k.workspaceId().equals(workspace) && !k.user().equals(ANY)).toList();
        Entry merged = entries.get(everyone);
        for (Key k : merging) {
            merged = merged == null ? entries.get(k) : combine(merged, entries.get(k));
        }
        // The wider entry first, then the narrower ones go: a lookup meanwhile never misses a revocation.
        entries.put(everyone, merged);
        merging.forEach(entries::remove);
        return true;
    }

    private static Entry combine(Entry a, Entry b) {
        return new Entry(later(a.at(), b.at()), later(a.forgetAfter(), b.forgetAfter()));
    }

    @Override
    public Instant revokedAt(String workspaceId, String user) {
        if (entries.isEmpty()) {
            return null;
        }
        Instant now = clock.instant();
        Instant latest = valid(entries.get(new Key(workspaceId, user)), now, null);
        latest = valid(entries.get(new Key(workspaceId, ANY)), now, latest);
        return valid(entries.get(new Key(ANY, user)), now, latest);
    }

    /** How many revocations are kept (expired ones included until the next {@link #revoke}). */
    public int size() {
        return entries.size();
    }

    private static Instant valid(Entry entry, Instant now, Instant latest) {
        if (entry == null || !now.isBefore(entry.forgetAfter())) {
            return latest;
        }
        return latest == null ? entry.at() : later(latest, entry.at());
    }

    private static String orAny(String value) {
        return value == null ? ANY : value;
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }
}

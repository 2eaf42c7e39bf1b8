package dev.ideproxy.token;

import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The default {@link RevocationStore}: revocations in memory, each kept until no session it ends could
 * still be valid (one session maximum lifetime). Right for a single node. Revocations are rare
 * administrative events, so it is not bounded by count; it drops expired entries whenever a new one
 * arrives. A lookup with no revocation recorded costs one emptiness check.
 *
 * <p>Thread-safe.
 */
public final class InMemoryRevocationStore implements RevocationStore {
    private static final String ANY = "\u0000*";

    private final Clock clock;
    private final ConcurrentHashMap<Key, Entry> entries = new ConcurrentHashMap<>();

    private record Key(String workspaceId, String user) {
    }

    private record Entry(Instant at, Instant forgetAfter) {
    }

    /** @param clock the time source that also decides token expiry */
    public InMemoryRevocationStore(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public void revoke(String workspaceId, String user, Instant at, Instant forgetAfter) {
        if (workspaceId == null && user == null) {
            throw new IllegalArgumentException("name a workspace, a user or both");
        }
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(forgetAfter, "forgetAfter");
        Instant now = clock.instant();
        entries.values().removeIf(e -> !now.isBefore(e.forgetAfter()));
        entries.merge(new Key(orAny(workspaceId), orAny(user)), new Entry(at, forgetAfter),
                (old, add) -> new Entry(later(old.at(), add.at()), later(old.forgetAfter(), add.forgetAfter())));
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

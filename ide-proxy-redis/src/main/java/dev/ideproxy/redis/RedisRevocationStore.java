package dev.ideproxy.redis;

import dev.ideproxy.redis.KeyLayout.RevocationKey;
import dev.ideproxy.token.RevocationStore;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.net.SocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link RevocationStore} in Redis, shared by every node: a revocation made on one node holds on
 * all of them, and their live WebSockets of the revoked sessions close within about a second.
 *
 * <p>A revocation is the key {@code <prefix>revoked:<workspace|*>:<user|*>} holding its instant
 * (ISO-8601) and expiring at {@code forgetAfter} (one session maximum lifetime later), announced on
 * the channel {@code <prefix>revocations}.
 *
 * <p>{@link #revokedAt} is asked on every tunnel request, so it never calls Redis: each node keeps a
 * local copy of the revocations, read in full at start (SCAN), kept current by the channel, and read
 * in full again every {@code resyncInterval} as the fallback for a missed message. While the copy
 * cannot be trusted (the subscription's connection was lost and the copy is not read again since),
 * {@link #revokedAt} throws {@link RevocationStoreUnavailableException} and ide-proxy refuses the
 * request (fails closed). Once Redis is back, the store subscribes again, reads every revocation, and
 * trusts its copy again, with no restart.
 *
 * <p>Listeners ({@link #addRevocationListener}) are called on a thread of this store's own, never on
 * the Redis client's event loop: after a revocation message arrives and after each re-synchronisation
 * that found something new (always after a reconnection). Obtain it from {@link RedisStores}. Thread-safe.
 */
public final class RedisRevocationStore implements RevocationStore {
    private static final Logger LOG = LoggerFactory.getLogger(RedisRevocationStore.class);
    /** Revocation keys read per SCAN step. */
    private static final int SCAN_COUNT = 1000;
    /** Retry delay of a failed re-synchronisation. */
    private static final Duration RETRY = Duration.ofSeconds(1);

    private final RedisCommands<String, String> redis;
    private final RedisAsyncCommands<String, String> redisAsync;
    private final StatefulRedisPubSubConnection<String, String> subscription;
    private final KeyLayout keys;
    private final Outage outage;
    private final Clock clock;
    private final ScheduledExecutorService executor;
    private final Duration resyncInterval;
    private final Duration timeout;

    private record Entry(Instant at, Instant forgetAfter) {
    }

    private final ConcurrentHashMap<RevocationKey, Entry> mirror = new ConcurrentHashMap<>();
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    /** Counts the subscription's connection losses: a re-synchronisation begun before one cannot restore trust. */
    private final AtomicLong losses = new AtomicLong();
    private final AtomicBoolean notifyPending = new AtomicBoolean();
    private final AtomicBoolean retryPending = new AtomicBoolean();
    private volatile boolean trusted;
    private volatile boolean closed;

    /**
     * @param redis        the connection for reads and writes (its timeout is the background timeout)
     * @param subscription the connection that subscribes to the channel
     * @param timeout      how long one background command may take
     */
    RedisRevocationStore(RedisCommands<String, String> redis, RedisAsyncCommands<String, String> redisAsync,
                         StatefulRedisPubSubConnection<String, String> subscription, KeyLayout keys, Outage outage,
                         Clock clock, ScheduledExecutorService executor, Duration resyncInterval, Duration timeout) {
        this.redis = redis;
        this.redisAsync = redisAsync;
        this.subscription = subscription;
        this.keys = keys;
        this.outage = outage;
        this.clock = clock;
        this.executor = executor;
        this.resyncInterval = resyncInterval;
        this.timeout = timeout;
    }

    /** Subscribes, reads every revocation, then trusts the copy; throws what Redis throws. */
    void start(StartUpCommands startUp) {
        subscription.addListener(new RedisPubSubAdapter<String, String>() {
            @Override
            public void message(String channel, String message) {
                onMessage(message);
            }
        });
        subscription.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
                connectionLost();
            }

            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
                submit(RedisRevocationStore.this::synchronise);
            }
        });
        startUp.run(subscription, () -> subscription.sync().subscribe(keys.channel()));
        startUp.run(redis.getStatefulConnection(), this::loadAll);
        trusted = true;
        long every = resyncInterval.toMillis();
        executor.scheduleWithFixedDelay(this::synchronise, every, every, TimeUnit.MILLISECONDS);
    }

    void close() {
        closed = true;
        trusted = false;
    }

    @Override
    public void revoke(String workspaceId, String user, Instant at, Instant forgetAfter) {
        if (workspaceId == null && user == null) {
            throw new IllegalArgumentException("name a workspace, a user or both");
        }
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(forgetAfter, "forgetAfter");
        try {
            redis.set(keys.revoked(workspaceId, user), at.toString(),
                    SetArgs.Builder.pxAt(RedisReplayStore.ceilMillis(forgetAfter)));
            redis.publish(keys.channel(), RedisReplayStore.ceilMillis(forgetAfter) + " " + at + " "
                    + KeyLayout.revocationSuffix(workspaceId, user));
        } catch (RuntimeException e) {
            outage.failed("recording a revocation failed", e);
            throw new RevocationStoreUnavailableException("Redis at " + outage.where()
                    + " could not record the revocation: " + outage.reason(e));
        }
        // This node knows at once, whenever its own message comes back.
        merge(new RevocationKey(workspaceId, user), at, forgetAfter);
    }

    @Override
    public Instant revokedAt(String workspaceId, String user) {
        if (!trusted) {
            throw new RevocationStoreUnavailableException(closed ? "the Redis revocation store is closed"
                    : "revocations cannot be checked: the connection to Redis at " + outage.where()
                    + " was lost and they are not read again yet");
        }
        if (mirror.isEmpty()) {
            return null;
        }
        Instant now = clock.instant();
        Instant latest = valid(mirror.get(new RevocationKey(workspaceId, user)), now, null);
        latest = valid(mirror.get(new RevocationKey(workspaceId, null)), now, latest);
        return valid(mirror.get(new RevocationKey(null, user)), now, latest);
    }

    @Override
    public void addRevocationListener(Runnable listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * False while the local copy of the revocations is not trusted, or Redis is known to be down: from
     * the first failure of an outage until Redis answers and every revocation was read again.
     */
    @Override
    public boolean isAvailable() {
        return trusted && !outage.isDown();
    }

    /** True while the local copy of the revocations is trusted (see the class comment). */
    public boolean isSynchronised() {
        return trusted;
    }

    /** How many revocations the local copy holds (expired ones until the next re-synchronisation). */
    public int size() {
        return mirror.size();
    }

    // --- the channel and the connection (called on the Redis client's threads: no blocking here) ---

    private void onMessage(String message) {
        String[] parts = message.split(" ", 3);
        if (parts.length != 3) {
            return; // not a revocation (the start-up check's message)
        }
        try {
            Instant forgetAfter = Instant.ofEpochMilli(Long.parseLong(parts[0]));
            Instant at = Instant.parse(parts[1]);
            RevocationKey key = KeyLayout.parseSuffix(parts[2]);
            if (key == null) {
                return;
            }
            merge(key, at, forgetAfter);
        } catch (NumberFormatException | DateTimeParseException e) {
            LOG.debug("ignored a malformed revocation message: {}", e.toString());
            return;
        }
        notifyListeners();
    }

    private void connectionLost() {
        losses.incrementAndGet();
        if (closed) {
            return;
        }
        trusted = false;
        outage.failed("the revocation channel's connection was lost", null);
    }

    // --- re-synchronisation (on this store's thread only) ---

    /**
     * Subscribes (again: a no-op when subscribed, and in effect before the read that follows), reads
     * every revocation, and trusts the copy when no connection loss happened meanwhile.
     */
    private void synchronise() {
        if (closed) {
            return;
        }
        long lossesBefore = losses.get();
        boolean wasTrusted = trusted;
        boolean changed;
        try {
            subscription.sync().subscribe(keys.channel());
            changed = loadAll();
        } catch (RuntimeException e) {
            if (closed) {
                return;
            }
            trusted = false;
            outage.failed("reading the revocations failed", e);
            retrySoon();
            return;
        }
        if (losses.get() != lossesBefore || !subscription.isOpen()) {
            retrySoon();
            return;
        }
        trusted = true;
        outage.succeeded();
        if (outage.isDown()) {
            retrySoon(); // another connection is still reconnecting: look again soon, not at the next resync
        }
        if (!wasTrusted) {
            LOG.debug("revocations read again from Redis at {}: {} known", outage.where(), mirror.size());
        }
        if (!wasTrusted || changed) {
            notifyListeners();
        }
    }

    private void retrySoon() {
        if (!closed && retryPending.compareAndSet(false, true)) {
            try {
                executor.schedule(() -> {
                    retryPending.set(false);
                    synchronise();
                }, RETRY.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                retryPending.set(false); // closing
            }
        }
    }

    /** Reads every revocation key into the copy; drops expired entries. @return true when one was new or later */
    private boolean loadAll() {
        Instant now = clock.instant();
        mirror.values().removeIf(e -> !now.isBefore(e.forgetAfter()));
        ScanArgs args = ScanArgs.Builder.matches(keys.revokedPattern()).limit(SCAN_COUNT);
        boolean changed = false;
        KeyScanCursor<String> cursor = redis.scan(args);
        while (true) {
            changed |= load(cursor.getKeys(), now);
            if (cursor.isFinished()) {
                return changed;
            }
            cursor = redis.scan(cursor, args);
        }
    }

    private boolean load(List<String> found, Instant now) {
        if (found.isEmpty()) {
            return false;
        }
        // Pipelined: every GET and PTTL of the batch in one round trip.
        List<RedisFuture<String>> values = new ArrayList<>(found.size());
        List<RedisFuture<Long>> ttls = new ArrayList<>(found.size());
        for (String key : found) {
            values.add(redisAsync.get(key));
            ttls.add(redisAsync.pttl(key));
        }
        boolean changed = false;
        for (int i = 0; i < found.size(); i++) {
            String value = LettuceFutures.awaitOrCancel(values.get(i), timeout.toMillis(), TimeUnit.MILLISECONDS);
            Long ttl = LettuceFutures.awaitOrCancel(ttls.get(i), timeout.toMillis(), TimeUnit.MILLISECONDS);
            RevocationKey key = keys.parseRevoked(found.get(i));
            if (key == null || value == null || ttl == null || ttl == -2) {
                continue; // not ours, or expired meanwhile
            }
            Instant at;
            try {
                at = Instant.parse(value);
            } catch (DateTimeParseException e) {
                continue;
            }
            changed |= merge(key, at, ttl < 0 ? Instant.MAX : now.plusMillis(ttl));
        }
        return changed;
    }

    // --- the copy ---

    /** Keeps the later instant and the later expiry. @return true when the revocation is new or later */
    private boolean merge(RevocationKey key, Instant at, Instant forgetAfter) {
        boolean[] changed = {false};
        mirror.compute(key, (k, old) -> {
            if (old == null) {
                changed[0] = true;
                return new Entry(at, forgetAfter);
            }
            changed[0] = at.isAfter(old.at());
            return new Entry(later(old.at(), at), later(old.forgetAfter(), forgetAfter));
        });
        return changed[0];
    }

    private static Instant valid(Entry entry, Instant now, Instant latest) {
        if (entry == null || !now.isBefore(entry.forgetAfter())) {
            return latest;
        }
        return latest == null ? entry.at() : later(latest, entry.at());
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    // --- listeners (on this store's thread) ---

    /** Runs the listeners once soon; calls made while a run is pending share it. */
    private void notifyListeners() {
        if (listeners.isEmpty() || !notifyPending.compareAndSet(false, true)) {
            return;
        }
        if (!submit(() -> {
            notifyPending.set(false);
            for (Runnable listener : listeners) {
                try {
                    listener.run();
                } catch (RuntimeException e) {
                    LOG.warn("a revocation listener failed: {}", e.toString());
                }
            }
        })) {
            notifyPending.set(false);
        }
    }

    private boolean submit(Runnable task) {
        if (closed) {
            return false;
        }
        try {
            executor.execute(task);
            return true;
        } catch (RejectedExecutionException e) {
            return false; // closing
        }
    }
}

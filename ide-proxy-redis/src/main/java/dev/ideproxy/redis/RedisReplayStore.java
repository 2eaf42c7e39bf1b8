package dev.ideproxy.redis;

import dev.ideproxy.token.ReplayStore;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Instant;
import java.util.Objects;

/**
 * A {@link ReplayStore} in Redis, shared by every node: a bootstrap token is used once across the
 * fleet. Marking a token used is one atomic command,
 * {@code SET <prefix>used:<tokenId> 1 NX PXAT <expiresAt in ms>}: true when Redis answers OK (the key
 * was new), false when it existed. The key expires with the token, so Redis holds one small key per
 * token redeemed in the last token lifetime.
 *
 * <p>Fails closed: when Redis does not answer within the command timeout, or the connection is down,
 * {@link #markUsed} throws {@link ReplayStoreUnavailableException} and ide-proxy refuses the token
 * with 503; it never accepts a token it could not mark. Obtain it from {@link RedisStores}. Thread-safe.
 */
public final class RedisReplayStore implements ReplayStore {
    private final RedisCommands<String, String> redis;
    private final KeyLayout keys;
    private final Outage outage;

    RedisReplayStore(RedisCommands<String, String> redis, KeyLayout keys, Outage outage) {
        this.redis = redis;
        this.keys = keys;
        this.outage = outage;
    }

    @Override
    public boolean markUsed(String tokenId, Instant expiresAt) throws ReplayStoreUnavailableException {
        Objects.requireNonNull(tokenId, "tokenId");
        Objects.requireNonNull(expiresAt, "expiresAt");
        String reply;
        try {
            reply = redis.set(keys.used(tokenId), "1", SetArgs.Builder.nx().pxAt(ceilMillis(expiresAt)));
        } catch (RuntimeException e) {
            outage.failed("marking a token used failed", e);
            throw new ReplayStoreUnavailableException("Redis at " + outage.where()
                    + " could not mark the token used: " + outage.reason(e));
        }
        outage.succeeded();
        return "OK".equals(reply);
    }

    /** False from the first failure of a Redis outage until Redis answers again and revocations are read again. */
    @Override
    public boolean isAvailable() {
        return !outage.isDown();
    }

    /** Milliseconds since the epoch, rounded up: the key never expires before the token. */
    static long ceilMillis(Instant instant) {
        long millis = instant.toEpochMilli();
        return instant.getNano() % 1_000_000 == 0 ? millis : millis + 1;
    }
}

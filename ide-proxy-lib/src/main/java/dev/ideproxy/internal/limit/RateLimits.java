package dev.ideproxy.internal.limit;

import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.config.IdeProxyConfig.Rate;
import java.time.Duration;

/**
 * The rate limits of minting and of opening sessions, per user and per workspace
 * ({@code limit.mint-per-user} and the like). They keep one user, or one workspace's users, from
 * filling the replay store or the signing work for everyone: a flooding user gets 429 while others
 * go on. Held per node. Thread-safe.
 */
public final class RateLimits {
    private final KeyedRateLimiter mintPerUser;
    private final KeyedRateLimiter mintPerWorkspace;
    private final KeyedRateLimiter bootstrapPerUser;
    private final KeyedRateLimiter bootstrapPerWorkspace;

    public RateLimits(IdeProxyConfig config) {
        this.mintPerUser = limiter(config.limitMintPerUser());
        this.mintPerWorkspace = limiter(config.limitMintPerWorkspace());
        this.bootstrapPerUser = limiter(config.limitBootstrapPerUser());
        this.bootstrapPerWorkspace = limiter(config.limitBootstrapPerWorkspace());
    }

    /** Takes one mint for {@code user} on {@code workspaceId}, or throws when either is over its limit. */
    public void mint(String user, String workspaceId) throws RateLimitedException {
        take(mintPerUser, "user", user, mintPerWorkspace, workspaceId, "links minted");
    }

    /** Takes one session opening for {@code user} on {@code workspaceId}, or throws when either is over its limit. */
    public void bootstrap(String user, String workspaceId) throws RateLimitedException {
        take(bootstrapPerUser, "user", user, bootstrapPerWorkspace, workspaceId, "sessions opened");
    }

    private static void take(KeyedRateLimiter perUser, String userLabel, String user, KeyedRateLimiter perWorkspace,
                             String workspaceId, String what) throws RateLimitedException {
        if (perUser != null) {
            Duration wait = perUser.tryTake(user);
            if (!wait.isZero()) {
                throw new RateLimitedException("too many " + what + " by this " + userLabel, wait);
            }
        }
        if (perWorkspace != null) {
            Duration wait = perWorkspace.tryTake(workspaceId);
            if (!wait.isZero()) {
                throw new RateLimitedException("too many " + what + " for this workspace", wait);
            }
        }
    }

    private static KeyedRateLimiter limiter(Rate rate) {
        return rate == null ? null : new KeyedRateLimiter(rate);
    }
}

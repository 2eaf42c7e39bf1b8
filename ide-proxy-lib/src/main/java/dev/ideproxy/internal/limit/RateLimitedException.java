package dev.ideproxy.internal.limit;

import java.time.Duration;

/**
 * A mint or bootstrap over its user's or workspace's rate limit: answered with 429 and
 * {@code Retry-After}, nothing else changed (no token minted, none used up).
 */
public final class RateLimitedException extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient Duration retryAfter;

    RateLimitedException(String what, Duration retryAfter) {
        super(what);
        this.retryAfter = retryAfter;
    }

    /** Whole seconds until a retry may succeed, at least 1: the {@code Retry-After} value. */
    public long retryAfterSeconds() {
        return Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    }
}

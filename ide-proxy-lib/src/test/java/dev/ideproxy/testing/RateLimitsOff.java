package dev.ideproxy.testing;

import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;

/**
 * For tests that mint and redeem many links as one user on purpose (races, hostile input): the
 * mint and bootstrap rate limits switched off, so that those tests test what they are about.
 * {@code RateLimitTest} tests the limits themselves.
 */
public final class RateLimitsOff {
    private RateLimitsOff() {
    }

    /** {@code config} with every mint and bootstrap rate limit set to 0 (none). */
    public static IdeProxyConfig.Builder on(IdeProxyConfig.Builder config) {
        return config.set(ConfigOption.LIMIT_MINT_PER_USER, "0")
                .set(ConfigOption.LIMIT_MINT_PER_WORKSPACE, "0")
                .set(ConfigOption.LIMIT_BOOTSTRAP_PER_USER, "0")
                .set(ConfigOption.LIMIT_BOOTSTRAP_PER_WORKSPACE, "0");
    }
}

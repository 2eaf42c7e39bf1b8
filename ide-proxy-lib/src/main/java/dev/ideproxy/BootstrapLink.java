package dev.ideproxy;

import java.time.Instant;

/**
 * A single-use link that opens a workspace's IDE in a browser: its bootstrap endpoint with a signed,
 * short-lived token. Immutable.
 *
 * @param url       the link; it carries the token, so treat it as a secret until used (never log it)
 * @param expiresAt when the token stops working
 */
public record BootstrapLink(String url, Instant expiresAt) {
    @Override
    public String toString() {
        return "BootstrapLink[url=<hidden>, expiresAt=" + expiresAt + "]";
    }
}

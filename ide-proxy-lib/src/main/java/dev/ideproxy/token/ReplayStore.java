package dev.ideproxy.token;

import java.time.Instant;

/**
 * Remembers which bootstrap tokens have been used, so that each is exchanged for a session at most
 * once. The default, {@link InMemoryReplayStore}, remembers within one process; several nodes behind
 * one load balancer need a store they share, or a link can be used once per node.
 *
 * <p>A shared store must make {@link #markUsed} atomic across nodes, for example Redis
 * {@code SET ide-proxy:used:<tokenId> 1 NX PXAT <expiresAt in ms>} (true when the reply is OK), or
 * an SQL insert into a table whose primary key is the token id (true when no duplicate-key error),
 * with expired rows deleted from time to time.
 *
 * <p>Implementations must be thread-safe: two requests presenting the same token at the same moment
 * call {@link #markUsed} concurrently, and exactly one of them may get {@code true}.
 */
@FunctionalInterface
public interface ReplayStore {

    /**
     * Records that {@code tokenId} has been used, atomically with checking whether it already was.
     * The id must be remembered at least until {@code expiresAt}; after that the token no longer
     * verifies, so the store may forget it.
     *
     * @param tokenId   the token's unique id ({@code jti}); not a secret, but not worth logging either
     * @param expiresAt when the token stops verifying
     * @return true for the first use of {@code tokenId}, false for every later one
     * @throws ReplayStoreUnavailableException when the store cannot tell (full, or its backend is
     *         unreachable): the token is then refused, never accepted unchecked
     */
    boolean markUsed(String tokenId, Instant expiresAt) throws ReplayStoreUnavailableException;

    /**
     * Whether the store can answer now, for the readiness check ({@code GET /api/health/ready}): false
     * while a shared store's backend is known to be unreachable, so that a load balancer sends new
     * requests elsewhere. It must be cheap (no round trip: report what the store last saw) and must not
     * throw. The default, for a store that cannot tell, is true.
     */
    default boolean isAvailable() {
        return true;
    }
}

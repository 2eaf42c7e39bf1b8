package dev.ideproxy.token;

import java.time.Instant;

/**
 * Remembers sessions ended before their time ("revoked"), so that their cookies stop working at once
 * instead of at the end of their lifetime. A revocation names a workspace, a user, or both, and an
 * instant: every matching session that began at or before it is refused from then on. Sessions begun
 * later (the user opened the IDE again through the portal, whose access policy decided anew) are not
 * affected.
 *
 * <p>The default, {@link InMemoryRevocationStore}, is per process. Several nodes behind one load
 * balancer need a store they share, for example Redis keys {@code ide-proxy:revoked:<workspace>:<user>}
 * (with {@code *} for "any") holding the instant and expiring at {@code forgetAfter}.
 *
 * <p>{@link #revokedAt} is asked on every request of the live tunnel: it must be fast (a shared store
 * should keep a short local cache) and thread-safe. An exception from it refuses the request (fail
 * closed).
 */
public interface RevocationStore {

    /**
     * Records a revocation. A later revocation of the same workspace and user replaces an earlier one.
     *
     * @param workspaceId the workspace whose sessions end, or null for every workspace
     * @param user        the user whose sessions end, or null for every user (not both null)
     * @param at          sessions that began at or before this instant are refused
     * @param forgetAfter after this instant no matching session can still be valid anyway (each has
     *                    reached its maximum lifetime), so the store may forget the revocation
     */
    void revoke(String workspaceId, String user, Instant at, Instant forgetAfter);

    /**
     * The latest revocation that applies to a session of {@code user} on {@code workspaceId}: of the
     * workspace and user together, of the workspace for every user, or of the user on every workspace.
     *
     * @return its instant, or null when none applies
     */
    Instant revokedAt(String workspaceId, String user);

    /**
     * Asks the store to call {@code listener} whenever it learns of a revocation recorded by any node
     * sharing it (including this one), so that live WebSockets are checked at once instead of at the
     * next {@code session.revocation-check}. ide-proxy registers one listener per installed proxy,
     * at start-up. The listener is cheap and thread-safe; the store may call it from any thread, and
     * more often than necessary (a spurious call costs one check of the live WebSockets).
     *
     * <p>The default pushes nothing: a store without a push channel relies on the periodic check.
     *
     * @param listener run after a revocation became known
     */
    default void addRevocationListener(Runnable listener) {
    }

    /**
     * Whether the store can answer now, for the readiness check ({@code GET /api/health/ready}): false
     * while {@link #revokedAt} cannot be trusted (a shared store's backend is unreachable, or its local
     * copy is not read again since), so that a load balancer sends new requests elsewhere. It must be
     * cheap (no round trip) and must not throw. The default, for a store that cannot tell, is true.
     */
    default boolean isAvailable() {
        return true;
    }
}

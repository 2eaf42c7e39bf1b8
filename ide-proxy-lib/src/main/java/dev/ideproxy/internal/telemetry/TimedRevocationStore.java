package dev.ideproxy.internal.telemetry;

import dev.ideproxy.token.RevocationStore;
import java.time.Instant;

/**
 * A {@link RevocationStore} whose calls are timed and counted ({@link Telemetry#storeCall}); a call
 * that throws counts as an error. {@link #revokedAt} runs on every tunnel request, so it costs two
 * {@code nanoTime} calls and one timer update. Used only with a meter registry. Thread-safe as the
 * store it wraps.
 */
public final class TimedRevocationStore implements RevocationStore {
    private final RevocationStore store;
    private final Telemetry telemetry;

    public TimedRevocationStore(RevocationStore store, Telemetry telemetry) {
        this.store = store;
        this.telemetry = telemetry;
    }

    @Override
    public void revoke(String workspaceId, String user, Instant at, Instant forgetAfter) {
        long start = System.nanoTime();
        boolean failed = true;
        try {
            store.revoke(workspaceId, user, at, forgetAfter);
            failed = false;
        } finally {
            telemetry.storeCall(Telemetry.StoreCall.REVOCATION_REVOKE, System.nanoTime() - start, failed);
        }
    }

    @Override
    public Instant revokedAt(String workspaceId, String user) {
        long start = System.nanoTime();
        boolean failed = true;
        try {
            Instant at = store.revokedAt(workspaceId, user);
            failed = false;
            return at;
        } finally {
            telemetry.storeCall(Telemetry.StoreCall.REVOCATION_REVOKED_AT, System.nanoTime() - start, failed);
        }
    }

    @Override
    public void addRevocationListener(Runnable listener) {
        store.addRevocationListener(listener);
    }

    @Override
    public String toString() {
        return store.toString();
    }
}

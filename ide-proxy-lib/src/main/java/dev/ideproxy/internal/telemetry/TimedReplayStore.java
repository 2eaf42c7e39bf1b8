package dev.ideproxy.internal.telemetry;

import dev.ideproxy.token.ReplayStore;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import java.time.Instant;

/**
 * A {@link ReplayStore} whose calls are timed and counted ({@link Telemetry#storeCall}); a call that
 * throws counts as an error. Used only with a meter registry. Thread-safe as the store it wraps.
 */
public final class TimedReplayStore implements ReplayStore {
    private final ReplayStore store;
    private final Telemetry telemetry;

    public TimedReplayStore(ReplayStore store, Telemetry telemetry) {
        this.store = store;
        this.telemetry = telemetry;
    }

    @Override
    public boolean markUsed(String tokenId, Instant expiresAt) throws ReplayStoreUnavailableException {
        long start = System.nanoTime();
        boolean failed = true;
        try {
            boolean first = store.markUsed(tokenId, expiresAt);
            failed = false;
            return first;
        } finally {
            telemetry.storeCall(Telemetry.StoreCall.REPLAY_MARK_USED, System.nanoTime() - start, failed);
        }
    }

    @Override
    public String toString() {
        return store.toString();
    }
}

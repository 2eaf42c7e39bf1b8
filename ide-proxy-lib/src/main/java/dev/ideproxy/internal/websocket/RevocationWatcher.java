package dev.ideproxy.internal.websocket;

import dev.ideproxy.internal.session.Sessions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends live relays whose session was revoked. A revocation made on this node closes them at once
 * ({@link #closeRevoked()}, through {@link Sessions#revoke}); one made on another node sharing the
 * revocation store arrives through the store's push, when it has one, and otherwise through the
 * periodic check every {@code session.revocation-check}, which also catches pushes that were lost.
 *
 * <p>The periodic check starts with the first relay (its scheduler belongs to the upstream client,
 * which starts then) and runs until the connector stops. Each check runs off the scheduler thread,
 * since a shared store may block. Thread-safe.
 */
final class RevocationWatcher {
    private static final Logger LOG = LoggerFactory.getLogger(RevocationWatcher.class);

    /** What the revocation store says of a relay's session. */
    enum Verdict {
        VALID,
        REVOKED,
        /** The store could not tell (it failed): fail closed where a session would start. */
        UNKNOWN
    }

    private final Sessions sessions;
    private final LiveRelays relays;
    private final UpstreamConnector connector;
    private final Duration interval;
    /** Set once the periodic check is scheduled. */
    private final AtomicBoolean scheduled = new AtomicBoolean();

    /** @param interval of the periodic check; zero for none */
    RevocationWatcher(Sessions sessions, LiveRelays relays, UpstreamConnector connector, Duration interval) {
        this.sessions = sessions;
        this.relays = relays;
        this.connector = connector;
        this.interval = interval;
    }

    /** One lookup in the revocation store for the relay's session. A session of unknown start is never revoked. */
    Verdict check(LiveRelay relay) {
        if (relay.tunnel().sessionStart() == null) {
            return Verdict.VALID;
        }
        try {
            return sessions.isRevoked(relay.tunnel().workspaceId(), relay.tunnel().user(), relay.tunnel().sessionStart())
                    ? Verdict.REVOKED : Verdict.VALID;
        } catch (RuntimeException e) {
            LOG.debug("{}: the revocation store failed: {}", relay.describe(), e.toString());
            return sessions.servesWhileRevocationsUnknown() ? Verdict.VALID : Verdict.UNKNOWN;
        }
    }

    /**
     * Closes the live relays whose session was revoked: the browser with 1008 "session revoked", the
     * upstream with 1001. Stops at the first relay the store cannot answer for; the next check tries again.
     *
     * @return how many were closed
     */
    int closeRevoked() {
        int closed = 0;
        for (LiveRelay relay : relays.snapshot()) {
            Verdict verdict = check(relay);
            if (verdict == Verdict.UNKNOWN) {
                LOG.debug("revocation check of live WebSockets interrupted, tried again at the next check");
                return closed;
            }
            if (verdict == Verdict.REVOKED && relay.revoke()) {
                closed++;
            }
        }
        return closed;
    }

    /** Starts the periodic check, once; a later call retries if it could not be scheduled. */
    void start() {
        if (interval.isZero() || !scheduled.compareAndSet(false, true)) {
            return;
        }
        if (!scheduleNext()) {
            scheduled.set(false); // try again with the next relay
        }
    }

    private void run() {
        try {
            connector.executor().execute(() -> {
                try {
                    closeRevoked();
                } finally {
                    scheduleNext();
                }
            });
        } catch (RuntimeException e) {
            // Rejected: ide-proxy is stopping.
        }
    }

    /** @return false when the check could not be scheduled */
    private boolean scheduleNext() {
        if (connector.isStopping()) {
            return false;
        }
        try {
            connector.scheduler().schedule(this::run, interval.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (RuntimeException e) {
            LOG.debug("revocation check not scheduled: {}", e.toString());
            return false;
        }
    }
}

package dev.ideproxy.internal.websocket;

import dev.ideproxy.internal.tunnel.TunnelRequest;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The relays of one installed ide-proxy that are open or opening, so that a drain can close them
 * with 1012 and shutdown with 1001, revocations can find them and tests can see that none is left behind. A relay leaves
 * as soon as it starts closing.
 *
 * <p>It also holds the connection limits: at most {@code perSession} live relays for one session
 * (one browser's login to one workspace) and {@code perUser} for one user over all their sessions
 * ({@code limit.websockets-per-session}, {@code -per-user}; zero for no limit), so that one user
 * cannot take the node's file descriptors from everyone.
 *
 * <p>A registered relay counts as a live WebSocket of its workspace's activity
 * ({@link dev.ideproxy.internal.activity.ActivityTracker.Entry#webSocketOpened}) until it leaves.
 *
 * <p>Thread-safe.
 */
final class LiveRelays {
    /** Whether a relay was let in. */
    enum Admission { ADDED, SHUT_DOWN, TOO_MANY_FOR_SESSION, TOO_MANY_FOR_USER }

    private final int perSession;
    private final int perUser;
    private final Set<LiveRelay> relays = ConcurrentHashMap.newKeySet();
    /** Live relays by session key and by user; guarded by this (updated together). */
    private final Map<String, Integer> bySession = new ConcurrentHashMap<>();
    private final Map<String, Integer> byUser = new ConcurrentHashMap<>();
    private volatile boolean shutDown;

    /** @param perSession most live relays per session, zero for no limit; {@code perUser} likewise */
    LiveRelays(int perSession, int perUser) {
        this.perSession = perSession;
        this.perUser = perUser;
    }

    /** No limits; for tests. */
    LiveRelays() {
        this(0, 0);
    }

    /** Registers {@code relay}, unless ide-proxy is shutting down or its session or user is at its limit. */
    Admission add(LiveRelay relay) {
        if (shutDown) {
            return Admission.SHUT_DOWN;
        }
        synchronized (this) {
            String session = sessionKey(relay.tunnel());
            String user = relay.tunnel().user();
            if (perSession > 0 && bySession.getOrDefault(session, 0) >= perSession) {
                return Admission.TOO_MANY_FOR_SESSION;
            }
            if (perUser > 0 && byUser.getOrDefault(user, 0) >= perUser) {
                return Admission.TOO_MANY_FOR_USER;
            }
            relays.add(relay);
            bySession.merge(session, 1, Integer::sum);
            byUser.merge(user, 1, Integer::sum);
        }
        relay.activity().webSocketOpened(relay.tunnel().user());
        if (shutDown) {
            remove(relay);
            return Admission.SHUT_DOWN;
        }
        return Admission.ADDED;
    }

    void remove(LiveRelay relay) {
        synchronized (this) {
            if (!relays.remove(relay)) {
                return;
            }
            bySession.computeIfPresent(sessionKey(relay.tunnel()), (k, n) -> n > 1 ? n - 1 : null);
            byUser.computeIfPresent(relay.tunnel().user(), (k, n) -> n > 1 ? n - 1 : null);
        }
        relay.activity().webSocketClosed();
    }

    int size() {
        return relays.size();
    }

    /** A snapshot of the live relays. */
    Set<LiveRelay> snapshot() {
        return Set.copyOf(relays);
    }

    /** Refuses new relays and closes every live one with 1001. */
    void shutdown() {
        shutDown = true;
        for (LiveRelay relay : snapshot()) {
            relay.shutdown();
        }
    }

    /** Refuses new relays and closes every live one with 1012 (service restart); returns how many. */
    int drain() {
        shutDown = true;
        Set<LiveRelay> live = snapshot();
        for (LiveRelay relay : live) {
            relay.restart();
        }
        return live.size();
    }

    /** One session: its workspace, its user and when it began (the same across cookie renewals). */
    private static String sessionKey(TunnelRequest tunnel) {
        return tunnel.workspaceId() + '\n' + tunnel.user() + '\n' + tunnel.sessionStart();
    }
}

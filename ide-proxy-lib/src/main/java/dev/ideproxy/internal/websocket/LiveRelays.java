package dev.ideproxy.internal.websocket;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The relays of one installed ide-proxy that are open or opening, so that shutdown can close them
 * with 1001 and tests can see that none is left behind. A relay leaves as soon as it starts closing.
 *
 * <p>Thread-safe.
 */
final class LiveRelays {
    private final Set<Relay> relays = ConcurrentHashMap.newKeySet();
    private volatile boolean shutDown;

    /** Registers {@code relay}; false when ide-proxy is shutting down. */
    boolean add(Relay relay) {
        if (shutDown) {
            return false;
        }
        relays.add(relay);
        if (shutDown) {
            relays.remove(relay);
            return false;
        }
        return true;
    }

    void remove(Relay relay) {
        relays.remove(relay);
    }

    int size() {
        return relays.size();
    }

    /** A snapshot of the live relays. */
    Set<Relay> snapshot() {
        return Set.copyOf(relays);
    }

    /** Refuses new relays and closes every live one with 1001. */
    void shutdown() {
        shutDown = true;
        for (Relay relay : snapshot()) {
            relay.shutdown();
        }
    }
}

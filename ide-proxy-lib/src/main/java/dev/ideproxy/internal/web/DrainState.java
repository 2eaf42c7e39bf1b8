package dev.ideproxy.internal.web;

/**
 * Whether this node is draining: about to stop, so load balancers should send it nothing new. The
 * readiness check answers 503 from the moment it begins. It only ever begins; a node that drained
 * stops. Thread-safe.
 */
public final class DrainState {
    private volatile boolean draining;

    /** From now on the node is draining. */
    public void begin() {
        draining = true;
    }

    public boolean isDraining() {
        return draining;
    }
}

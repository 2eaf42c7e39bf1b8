package dev.ideproxy.internal.web;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drain of one installed ide-proxy: the node is about to stop (an undeploy, a redeploy, a container
 * stop, SIGTERM to the standalone server, {@code IdeProxy.drain}), so it takes nothing new that lasts
 * and lets what is under way finish for a while.
 *
 * <p>{@link #drain(Duration)}, once begun:
 * <ol>
 *   <li>the readiness check answers 503 (load balancers send new work elsewhere);</li>
 *   <li>the {@linkplain #onBegin begin actions} run: the WebSocket side refuses new upgrades (503 with
 *       {@code Retry-After}) and closes live WebSockets with 1012 (service restart), which browsers and
 *       IDEs answer by reconnecting, to another node where there is one;</li>
 *   <li>HTTP exchanges in flight (downloads, uploads, event streams) may finish within the timeout;</li>
 *   <li>whatever is still in flight then is cut ({@link Exchange#cut}).</li>
 * </ol>
 * New HTTP requests are still served while draining: a load balancer may take a moment to notice.
 * A drain only ever begins once; a drained node stops. Thread-safe.
 */
public final class DrainState {
    private static final Logger LOG = LoggerFactory.getLogger(DrainState.class);

    private final Set<Exchange> inFlight = ConcurrentHashMap.newKeySet();
    private final List<Runnable> onBegin = new CopyOnWriteArrayList<>();
    private final Object quiet = new Object();
    private volatile boolean draining;

    /** {@code action} runs once when the drain begins (at once if it already has). */
    public void onBegin(Runnable action) {
        onBegin.add(action);
        if (draining && onBegin.remove(action)) {
            action.run();
        }
    }

    /** From now on the node is draining: runs the begin actions once. Returns false if it already was. */
    public boolean begin() {
        synchronized (this) {
            if (draining) {
                return false;
            }
            draining = true;
        }
        for (Runnable action : List.copyOf(onBegin)) {
            onBegin.remove(action);
            try {
                action.run();
            } catch (RuntimeException e) {
                LOG.warn("a drain action failed: {}", LogSafe.safe(e));
            }
        }
        return true;
    }

    public boolean isDraining() {
        return draining;
    }

    /**
     * Drains: {@link #begin()}, then waits up to {@code timeout} for the HTTP exchanges in flight, then
     * cuts those left. Callers that come while another drains wait with it.
     *
     * @return true when no exchange had to be cut
     */
    public boolean drain(Duration timeout) {
        boolean first = begin();
        int waiting = inFlight.size();
        if (first && waiting > 0) {
            LOG.info("draining: waiting up to {} for {} HTTP exchange(s) in flight", timeout, waiting);
        }
        long start = System.nanoTime();
        boolean finished = await(timeout);
        if (finished) {
            if (first && waiting > 0) {
                LOG.info("drained: every HTTP exchange finished, in {} ms",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            }
            return true;
        }
        int cut = 0;
        for (Exchange exchange : Set.copyOf(inFlight)) {
            exchange.cut();
            cut++;
        }
        LOG.warn("drain timeout ({}): cut {} HTTP exchange(s) still in flight", timeout, cut);
        return false;
    }

    /** Waits until no exchange is in flight, for at most {@code timeout}; true if none is. */
    boolean await(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (quiet) {
            while (!inFlight.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(quiet, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return inFlight.isEmpty();
                }
            }
        }
        return true;
    }

    /** An HTTP exchange begins; {@link Exchange#end()} it when it completes. */
    public Exchange exchangeStarted() {
        Exchange exchange = new Exchange();
        inFlight.add(exchange);
        return exchange;
    }

    /** How many HTTP exchanges are in flight. */
    public int inFlight() {
        return inFlight.size();
    }

    /** One HTTP exchange in flight. */
    public final class Exchange {
        private volatile Runnable cutter;

        private Exchange() {
        }

        /** How to cut it if the drain times out (e.g. abort its upstream request). */
        public void cutWith(Runnable cutter) {
            this.cutter = cutter;
        }

        /** It completed (any way). Idempotent. */
        public void end() {
            if (inFlight.remove(this) && draining) {
                synchronized (quiet) {
                    quiet.notifyAll();
                }
            }
        }

        void cut() {
            Runnable c = cutter;
            if (c != null) {
                try {
                    c.run();
                } catch (RuntimeException e) {
                    LOG.debug("cutting an exchange failed", e);
                }
            }
            end();
        }
    }
}

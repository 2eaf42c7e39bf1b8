package dev.ideproxy.internal.websocket;

import dev.ideproxy.internal.websocket.Relay.Side;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Liveness of one relay: when each side last showed life (a frame from it, or a data send to it
 * completing), a keep-alive ping to a side that has been quiet for {@code websocket.ping-interval},
 * and the end of a relay one of whose sides stayed silent for {@code websocket.idle-timeout}.
 *
 * <p>One timer per relay on the shared scheduler, rescheduled each ping interval; none when pings
 * are off. The tick only decides: it hands whatever may block to the {@link Listener}, which sends
 * pings without blocking and ends idle relays on the executor.
 *
 * <p>Thread-safe: the timestamps are volatile, the timer is guarded by {@code this}.
 */
final class KeepAlive {
    /** Payload of the relay's own keep-alive pings; pongs that carry it are answers to the relay. */
    static final byte[] PAYLOAD = "ide-proxy-keepalive".getBytes(StandardCharsets.US_ASCII);

    /** What the keep-alive asks of its relay. */
    interface Listener {
        boolean isClosing();

        /** {@code side} was quiet for the ping interval: ping it, without blocking the scheduler. */
        void quiet(Side side);

        /** {@code side} showed no life for the idle timeout: end the relay. Runs on the executor. */
        void silent(Side side);
    }

    private final RelaySettings settings;
    /** Its scheduler runs the timer, its executor whatever may block. */
    private final UpstreamConnector connector;
    private final Listener listener;
    /** {@link System#nanoTime()} when each side last showed life. */
    private volatile long clientActive;
    private volatile long upstreamActive;

    // Guarded by this.
    private Scheduler.Task timer;
    private boolean stopped;

    KeepAlive(RelaySettings settings, UpstreamConnector connector, Listener listener) {
        this.settings = settings;
        this.connector = connector;
        this.listener = listener;
        long now = System.nanoTime();
        this.clientActive = now;
        this.upstreamActive = now;
    }

    /** {@code side} showed life now. */
    void touch(Side side) {
        if (side == Side.CLIENT) {
            clientActive = System.nanoTime();
        } else {
            upstreamActive = System.nanoTime();
        }
    }

    /** Starts the timer (once both sides are open); does nothing after {@link #stop()} or with pings off. */
    synchronized void start() {
        schedule();
    }

    /** Stops the timer for good. */
    void stop() {
        Scheduler.Task t;
        synchronized (this) {
            stopped = true;
            t = timer;
            timer = null;
        }
        if (t != null) {
            t.cancel();
        }
    }

    /** True when {@code payload} is the relay's own keep-alive, whose pong is not relayed. */
    static boolean isOwnPayload(ByteBuffer payload) {
        if (payload == null || payload.remaining() != PAYLOAD.length) {
            return false;
        }
        byte[] bytes = new byte[PAYLOAD.length];
        payload.duplicate().get(bytes);
        return Arrays.equals(bytes, PAYLOAD);
    }

    // Guarded by this.
    private void schedule() {
        long period = settings.pingInterval().toMillis();
        if (period > 0 && !stopped) {
            timer = connector.scheduler().schedule(this::tick, period, TimeUnit.MILLISECONDS);
        }
    }

    /** Runs on the shared scheduler thread: decides quickly, hands anything that may block on. */
    private void tick() {
        if (listener.isClosing()) {
            return;
        }
        long now = System.nanoTime();
        long idle = settings.idleTimeout().toNanos();
        if (idle > 0) {
            Side silent = now - clientActive > idle ? Side.CLIENT : now - upstreamActive > idle ? Side.UPSTREAM : null;
            if (silent != null) {
                connector.executor().execute(() -> listener.silent(silent));
                return;
            }
        }
        long ping = settings.pingInterval().toNanos();
        if (now - upstreamActive >= ping) {
            listener.quiet(Side.UPSTREAM);
        }
        if (now - clientActive >= ping) {
            listener.quiet(Side.CLIENT);
        }
        synchronized (this) {
            schedule();
        }
    }
}

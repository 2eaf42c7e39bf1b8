package dev.ideproxy.internal.websocket;

import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.internal.session.LiveSessions;
import dev.ideproxy.internal.session.Sessions;
import dev.ideproxy.internal.telemetry.Telemetry;
import dev.ideproxy.internal.tunnel.HeaderPolicy;
import dev.ideproxy.internal.tunnel.UpgradeHandler;
import dev.ideproxy.internal.web.ContextShutdown;
import dev.ideproxy.internal.web.DrainState;
import jakarta.servlet.ServletContext;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WebSocket side of one installed ide-proxy: the {@link UpgradeHandler} the tunnel filter hands
 * upgrades to ({@link WebSocketUpgrade}), the live relays, the upstream client they share
 * ({@link UpstreamConnector}) and the {@link RevocationWatcher} that ends revoked ones. As
 * {@link LiveSessions} it lets {@link Sessions} end revoked relays at once.
 *
 * <p>{@link #bindTo} ties its lifetime to the servlet context and the node's drain: when the drain
 * begins, live sessions are closed with 1012 (service restart) and new upgrades refused; when the
 * context is destroyed, what is left is closed with 1001 and the upstream client is stopped. Thread-safe.
 */
public final class WebSocketTunnel implements LiveSessions {
    private static final Logger LOG = LoggerFactory.getLogger(WebSocketTunnel.class);
    /** The servlet context attribute under which the bound tunnel is found. */
    static final String ATTRIBUTE = WebSocketTunnel.class.getName();

    private final RelaySettings settings;
    private final UpstreamConnector connector;
    private final LiveRelays relays;
    private final RevocationWatcher revocations;
    private final WebSocketUpgrade upgrades;
    private final OriginCheck originCheck;

    /**
     * @param settings        limits and timers of every relay
     * @param relays          the registry of live relays, with the connection limits
     * @param originCheck     which origins may open WebSockets
     * @param headers         what crosses to the upstream in the handshake (the HTTP path uses the same policy)
     * @param sessions        to check live relays against revocations; this tunnel registers with it
     * @param revocationCheck interval of the periodic revocation check; zero for none
     * @param telemetry       where handshakes, relays and their traffic are counted
     * @param activity        counts relays and their frames as activity of their workspace
     */
    WebSocketTunnel(RelaySettings settings, LiveRelays relays, OriginCheck originCheck, HeaderPolicy headers,
                    Sessions sessions, Duration revocationCheck, Clock clock, Telemetry telemetry,
                    ActivityTracker activity) {
        this.settings = settings;
        this.relays = relays;
        this.originCheck = originCheck;
        this.connector = new UpstreamConnector(headers, settings);
        this.revocations = new RevocationWatcher(sessions, relays, connector, revocationCheck);
        this.upgrades = new WebSocketUpgrade(settings, originCheck, connector, relays, revocations, clock, telemetry,
                activity);
        if (!settings.idleTimeout().isZero() && !settings.pingInterval().isZero()
                && settings.pingInterval().compareTo(settings.idleTimeout()) >= 0) {
            LOG.warn("websocket.ping-interval ({}) is not shorter than websocket.idle-timeout ({}): idle but healthy"
                    + " sessions will be closed", settings.pingInterval(), settings.idleTimeout());
        }
        sessions.track(this);
    }

    /**
     * The WebSocket side as configured: relay limits and timers ({@code websocket.*}, the upstream
     * connect timeout), allowed origins and the revocation check interval.
     */
    public static WebSocketTunnel create(IdeProxyConfig config, HeaderPolicy headers, Sessions sessions, Clock clock,
                                         Telemetry telemetry, ActivityTracker activity) {
        return new WebSocketTunnel(RelaySettings.from(config),
                new LiveRelays(config.limitWebSocketsPerSession(), config.limitWebSocketsPerUser()),
                new OriginCheck(config.wsAllowedOrigins(), config.wsAllowMissingOrigin()), headers, sessions,
                config.sessionRevocationCheck(), clock, telemetry, activity);
    }

    /** Where the tunnel filter hands WebSocket upgrades. */
    public UpgradeHandler upgradeHandler() {
        return upgrades;
    }

    /**
     * The check every upgrade's {@code Origin} passes, as {@code (origin, host) -> allowed} (the
     * request's {@code Origin} and {@code Host} headers, either null when absent): for other
     * WebSocket endpoints of the proxy (the diagnostics echo), so that they accept exactly the same
     * origins as the tunnel.
     */
    public BiPredicate<String, String> originCheck() {
        return originCheck::allows;
    }

    /**
     * Ties this tunnel to {@code context}: it is stopped when the context is destroyed
     * ({@link ContextShutdown}, which works whether {@code IdeProxy.install} runs in an initializer or
     * in a listener).
     */
    public void bindTo(ServletContext context, DrainState drain, Duration drainTimeout) {
        context.setAttribute(ATTRIBUTE, this);
        drain.onBegin(this::drain);
        // Drained first, in case no servlet's destroy did: live sessions get 1012 rather than 1001.
        ContextShutdown.register(context, "ide-proxy-websocket-lifecycle", () -> {
            drain.drain(drainTimeout);
            stop();
        });
    }

    /**
     * The node is draining: new upgrades are refused with 503 and {@code Retry-After}, and live sessions
     * are closed with 1012 (service restart), so that browsers reconnect, to another node where there is one.
     */
    void drain() {
        int closed = relays.drain();
        if (closed > 0) {
            LOG.info("draining: closed {} WebSocket session(s) with 1012 (service restart)", closed);
        }
    }

    @Override
    public int closeRevoked() {
        return revocations.closeRevoked();
    }

    @Override
    public boolean isStopped() {
        return connector.isStopping();
    }

    /**
     * Closes every live session with 1001, waits briefly for the close handshakes, then stops the
     * upstream client (which drops whatever is left). New upgrades are refused from here on.
     */
    public void stop() {
        int live = relays.size();
        relays.shutdown();
        if (live > 0) {
            LOG.info("closed {} WebSocket session(s): ide-proxy is shutting down", live);
        }
        // Lets the close handshakes of these, and of those a drain closed, finish.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (connector.openSessions() > 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        connector.stop();
    }

    // ---- for tests and diagnostics (package-private) ----

    /** The tunnel bound to {@code context}, or null. */
    static WebSocketTunnel of(ServletContext context) {
        return (WebSocketTunnel) context.getAttribute(ATTRIBUTE);
    }

    LiveRelays relays() {
        return relays;
    }

    UpstreamConnector connector() {
        return connector;
    }

    RelaySettings settings() {
        return settings;
    }
}

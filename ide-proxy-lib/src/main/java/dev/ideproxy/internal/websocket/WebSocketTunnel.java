package dev.ideproxy.internal.websocket;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.internal.token.TokenService;
import dev.ideproxy.internal.tunnel.TunnelRequest;
import dev.ideproxy.internal.web.Failure;
import dev.ideproxy.internal.web.LogSafe;
import dev.ideproxy.internal.web.Responses;
import jakarta.servlet.GenericServlet;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.ServletRegistration;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.websocket.server.ServerContainer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves WebSocket upgrades under the tunnel, after {@code IdeTunnelFilter} has authenticated the
 * request and resolved its target. For each upgrade, in this order:
 * <ol>
 *   <li>the {@link OriginCheck} (cross-site WebSocket hijacking): 403 without contacting the upstream;</li>
 *   <li>the upstream handshake, for this request only, to exactly {@link TunnelRequest#webSocketUri()}
 *       ({@link UpstreamConnector}); a refusal is answered with the upstream's status, an unreachable
 *       upstream with 502, a silent one with 504, and the browser is not upgraded;</li>
 *   <li>the browser's upgrade through the container's {@link ServerContainer}, with a fresh endpoint
 *       configuration bound to that upstream session and accepting the subprotocol the upstream chose;</li>
 *   <li>the {@link Relay} between the two.</li>
 * </ol>
 *
 * <p>One instance per installed ide-proxy. {@link #bindTo(ServletContext)} ties its lifetime to the
 * servlet context: when the context is destroyed, live sessions are closed with 1001 and the
 * upstream client is stopped. Thread-safe.
 */
public final class WebSocketTunnel {
    private static final Logger LOG = LoggerFactory.getLogger(WebSocketTunnel.class);
    /** The servlet context attribute under which the bound tunnel is found. */
    static final String ATTRIBUTE = WebSocketTunnel.class.getName();
    /** The servlet context attribute of the Jakarta WebSocket server container (Jakarta WebSocket 2.1). */
    static final String SERVER_CONTAINER = "jakarta.websocket.server.ServerContainer";

    private final RelaySettings settings;
    private final OriginCheck originCheck;
    private final UpstreamConnector connector;
    private final LiveRelays relays = new LiveRelays();
    private final java.time.Clock clock;
    private final TokenService tokens;
    private final java.time.Duration revocationCheck;
    /** Set once the periodic revocation check is scheduled (with the first relay). */
    private final java.util.concurrent.atomic.AtomicBoolean revocationCheckScheduled =
            new java.util.concurrent.atomic.AtomicBoolean();

    public WebSocketTunnel(IdeProxy proxy) {
        IdeProxyConfig config = proxy.config();
        this.clock = proxy.clock();
        this.tokens = proxy.tokens();
        this.revocationCheck = config.sessionRevocationCheck();
        this.settings = RelaySettings.from(config);
        this.originCheck = new OriginCheck(config.wsAllowedOrigins(), config.wsAllowMissingOrigin());
        // The same header policy as the HTTP path (proxy cookie, credentials, trusted proxies).
        this.connector = new UpstreamConnector(proxy.headerPolicy(), settings);
        if (!settings.idleTimeout().isZero() && !settings.pingInterval().isZero()
                && settings.pingInterval().compareTo(settings.idleTimeout()) >= 0) {
            LOG.warn("websocket.ping-interval ({}) is not shorter than websocket.idle-timeout ({}): idle but healthy"
                    + " sessions will be closed", settings.pingInterval(), settings.idleTimeout());
        }
    }

    /** True for a GET that asks to upgrade to WebSocket. */
    public static boolean isUpgrade(HttpServletRequest request) {
        String upgrade = request.getHeader("Upgrade");
        return "GET".equals(request.getMethod()) && upgrade != null && upgrade.trim().equalsIgnoreCase("websocket");
    }

    /**
     * Ties this tunnel to {@code context}: it is stopped when the context is destroyed. Uses a
     * {@link ServletContextListener} when the context accepts one (during a
     * {@code ServletContainerInitializer}); when {@code IdeProxy.install} runs inside a listener,
     * where the specification forbids adding another, the destroy of a mapping-less servlet serves.
     */
    public void bindTo(ServletContext context) {
        context.setAttribute(ATTRIBUTE, this);
        try {
            context.addListener(new Shutdown(this));
        } catch (IllegalArgumentException | UnsupportedOperationException | IllegalStateException e) {
            ServletRegistration.Dynamic lifecycle = context.addServlet("ide-proxy-websocket-lifecycle", new ShutdownServlet(this));
            if (lifecycle != null) {
                lifecycle.setLoadOnStartup(1);
            }
        }
    }

    /** Relays this upgrade to the tunnel request's own upstream. */
    public void upgrade(TunnelRequest tunnel, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        String origin = request.getHeader("Origin");
        if (!originCheck.allows(origin, request.getHeader("Host"))) {
            LOG.info("{}: refused a WebSocket upgrade from origin {}", tunnel.describe(),
                    origin == null ? "(none)" : LogSafe.clean(origin));
            Responses.page(response, Failure.FORBIDDEN, origin == null
                    ? "WebSocket connections without an Origin are not accepted here."
                    : "This page may not open a WebSocket to workspace " + tunnel.workspaceId() + ".");
            return;
        }
        if (request.getHeader("Sec-WebSocket-Key") == null || !"13".equals(request.getHeader("Sec-WebSocket-Version"))) {
            Responses.page(response, Failure.BAD_REQUEST, "This is not a valid WebSocket handshake (version 13).");
            return;
        }
        ServerContainer container = (ServerContainer) request.getServletContext().getAttribute(SERVER_CONTAINER);
        if (container == null) {
            LOG.error("no Jakarta WebSocket container in this web application: enable WebSocket support in the server");
            Responses.page(response, Failure.INTERNAL, "WebSockets are not enabled on this server.");
            return;
        }
        List<String> offered = offeredSubprotocols(request);
        java.time.Instant sessionStart = tunnel.sessionEnds() == null ? null
                : tunnel.sessionEnds().minus(tokens.sessionMaxLifetime());
        Relay relay = new Relay(tunnel, sessionStart, settings, relays, connector);
        if (!relays.add(relay)) {
            Responses.page(response, Failure.SERVICE_UNAVAILABLE, "The server is shutting down.");
            return;
        }
        if (revoked(relay)) {
            // Revoked between the filter's check and now: closeRevoked() may have run before the relay was listed.
            relays.remove(relay);
            refuseRevoked(response, tunnel);
            return;
        }
        scheduleRevocationCheck();
        if (tunnel.sessionEnds() != null) {
            relay.expireAfter(java.time.Duration.between(clock.instant(), tunnel.sessionEnds()));
        }
        Session upstream = connectUpstream(tunnel, request, response, offered, relay);
        if (upstream == null) {
            return;
        }
        if (relay.isClosing()) {
            // Revoked, or shut down, while the upstream handshake was under way.
            upstream.disconnect();
            if (revoked(relay)) {
                refuseRevoked(response, tunnel);
            } else {
                Responses.page(response, Failure.SERVICE_UNAVAILABLE, "The server is shutting down.");
            }
            return;
        }
        String accepted = upstream.getUpgradeResponse().getAcceptedSubProtocol();
        if (accepted != null && accepted.isBlank()) {
            accepted = null;
        }
        if (accepted != null && !offered.contains(accepted)) {
            LOG.warn("{}: the upstream accepted subprotocol '{}', which the browser did not offer", tunnel.describe(),
                    LogSafe.clean(accepted));
            relay.abandon("subprotocol not offered");
            Responses.page(response, Failure.UPSTREAM_UNREACHABLE, "Workspace " + tunnel.workspaceId()
                    + " answered the WebSocket handshake wrongly.");
            return;
        }
        try {
            container.upgradeHttpToWebSocket(request, response, BrowserEndpoint.config(relay, accepted), Map.of());
        } catch (Exception e) {
            LOG.error("{}: the browser's WebSocket upgrade failed: {}", tunnel.describe(), Relay.safe(e));
            relay.abandon("browser upgrade failed");
            Responses.page(response, Failure.INTERNAL, "The WebSocket connection could not be established.");
            return;
        }
        relay.expectClientWithin(settings.connectTimeout().toMillis() + 1_000);
    }

    /** The upstream session for this upgrade, or null after answering the browser with the failure. */
    private Session connectUpstream(TunnelRequest tunnel, HttpServletRequest request, HttpServletResponse response,
                                    List<String> offered, Relay relay) throws IOException {
        CompletableFuture<Session> connecting;
        try {
            connecting = connector.connect(tunnel, request, offered, new UpstreamEndpoint(relay));
        } catch (IOException | RuntimeException e) {
            relay.abandon("connect failed");
            refuse(response, tunnel, UpstreamConnector.classify(e));
            return null;
        }
        try {
            // The client's own timeouts fire first; this bound only guards against a lost completion.
            return connecting.get(settings.connectTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            relay.abandon("upstream handshake failed");
            refuse(response, tunnel, UpstreamConnector.classify(e.getCause()));
        } catch (TimeoutException e) {
            relay.abandon("upstream handshake timed out");
            connecting.cancel(true);
            refuse(response, tunnel, UpstreamConnector.classify(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            relay.abandon("interrupted");
            refuse(response, tunnel, UpstreamConnector.classify(e));
        }
        return null;
    }

    private static void refuse(HttpServletResponse response, TunnelRequest tunnel, UpstreamConnector.Refusal refusal)
            throws IOException {
        String id = tunnel.workspaceId();
        if (refusal.failure() == Failure.UPSTREAM_TIMEOUT) {
            LOG.warn("{}: WebSocket handshake: {} ({})", tunnel.describe(), refusal.failure().title(), refusal.detail());
            Responses.page(response, Failure.UPSTREAM_TIMEOUT, "Workspace " + id + " did not answer in time.");
            return;
        }
        if (refusal.failure() != null) {
            LOG.warn("{}: WebSocket handshake: {} ({})", tunnel.describe(), refusal.failure().title(), refusal.detail());
            Responses.page(response, refusal.failure(), "Workspace " + id + " is not reachable. Is it running?");
            return;
        }
        // The upstream answered the handshake with an HTTP status: the browser gets the same one.
        LOG.info("{}: the upstream refused the WebSocket with HTTP {}", tunnel.describe(), refusal.status());
        String message = "Workspace " + id + " refused the WebSocket connection (HTTP " + refusal.status() + ").";
        Responses.notice(response, refusal.status(), "The workspace refused the connection", message);
    }

    /** The browser's {@code Sec-WebSocket-Protocol} values, in its order. */
    static List<String> offeredSubprotocols(HttpServletRequest request) {
        List<String> offered = new ArrayList<>();
        for (Enumeration<String> values = request.getHeaders("Sec-WebSocket-Protocol"); values.hasMoreElements(); ) {
            for (String protocol : values.nextElement().split(",")) {
                if (!protocol.isBlank()) {
                    offered.add(protocol.trim());
                }
            }
        }
        return offered;
    }

    /**
     * Closes the live sessions whose login was revoked ({@link TokenService#isRevoked}): the browser
     * with 1008 "session revoked", the upstream with 1001.
     *
     * @return how many were closed
     */
    public int closeRevoked() {
        int closed = 0;
        for (Relay relay : relays.snapshot()) {
            try {
                if (isRevoked(relay) && relay.revoke()) {
                    closed++;
                }
            } catch (RuntimeException e) {
                LOG.warn("revocation check of live WebSockets failed, tried again at the next check: {}", e.toString());
                return closed;
            }
        }
        return closed;
    }

    /** True when the relay's session was revoked; throws what the revocation store throws. */
    private boolean isRevoked(Relay relay) {
        return relay.sessionStart() != null
                && tokens.isRevoked(relay.tunnel().workspaceId(), relay.tunnel().user(), relay.sessionStart());
    }

    /** True when the relay's session was revoked, or the revocation store cannot tell (fail closed). */
    private boolean revoked(Relay relay) {
        try {
            return isRevoked(relay);
        } catch (RuntimeException e) {
            LOG.warn("{}: refused, the revocation store failed: {}", relay.describe(), e.toString());
            return true;
        }
    }

    private static void refuseRevoked(HttpServletResponse response, TunnelRequest tunnel) throws IOException {
        Responses.page(response, Failure.UNAUTHENTICATED, "Your session for workspace " + tunnel.workspaceId()
                + " was ended. Open the IDE again from the portal.");
    }

    /** True once this tunnel was stopped (its context destroyed). */
    public boolean isStopped() {
        return connector.isStopping();
    }

    /**
     * Checks live sessions against the revocation store every {@code session.revocation-check}, so that a
     * revocation made on another node sharing the store closes this node's WebSockets too. Started with
     * the first relay (the scheduler belongs to the upstream client, which starts then); runs until stop.
     */
    private void scheduleRevocationCheck() {
        if (revocationCheck.isZero() || !revocationCheckScheduled.compareAndSet(false, true)) {
            return;
        }
        if (!scheduleNextRevocationCheck()) {
            revocationCheckScheduled.set(false); // try again with the next relay
        }
    }

    private void revocationCheck() {
        try {
            // The check may ask a shared store: off the scheduler's thread.
            connector.executor().execute(() -> {
                try {
                    closeRevoked();
                } finally {
                    scheduleNextRevocationCheck();
                }
            });
        } catch (RuntimeException e) {
            // Rejected: ide-proxy is stopping.
        }
    }

    /** @return false when the check could not be scheduled */
    private boolean scheduleNextRevocationCheck() {
        if (connector.isStopping()) {
            return false;
        }
        try {
            connector.scheduler().schedule(this::revocationCheck, revocationCheck.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (RuntimeException e) {
            LOG.debug("revocation check not scheduled: {}", e.toString());
            return false;
        }
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
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (connector.openSessions() > 0 && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
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

    /** Stops the tunnel when the servlet context is destroyed. */
    private static final class Shutdown implements ServletContextListener {
        private final WebSocketTunnel tunnel;

        Shutdown(WebSocketTunnel tunnel) {
            this.tunnel = tunnel;
        }

        @Override
        public void contextDestroyed(ServletContextEvent event) {
            tunnel.stop();
        }
    }

    /** Stops the tunnel when the container destroys its servlets; it has no mapping and serves nothing. */
    private static final class ShutdownServlet extends GenericServlet {
        private static final long serialVersionUID = 1L;
        private final transient WebSocketTunnel tunnel;

        ShutdownServlet(WebSocketTunnel tunnel) {
            this.tunnel = tunnel;
        }

        @Override
        public void service(ServletRequest request, ServletResponse response) throws IOException {
            ((HttpServletResponse) response).sendError(HttpServletResponse.SC_NOT_FOUND);
        }

        @Override
        public void destroy() {
            tunnel.stop();
        }
    }
}

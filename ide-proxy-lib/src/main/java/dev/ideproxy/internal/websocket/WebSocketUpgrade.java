package dev.ideproxy.internal.websocket;

import dev.ideproxy.config.WebSocketMode;
import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.internal.telemetry.Telemetry;
import dev.ideproxy.internal.telemetry.Telemetry.Outcome;
import dev.ideproxy.internal.tunnel.IdeTunnelFilter;
import dev.ideproxy.internal.tunnel.TunnelRequest;
import dev.ideproxy.internal.tunnel.UpgradeHandler;
import dev.ideproxy.internal.web.BrowserHost;
import dev.ideproxy.internal.web.Failure;
import dev.ideproxy.internal.web.LogSafe;
import dev.ideproxy.internal.web.Responses;
import dev.ideproxy.internal.websocket.RevocationWatcher.Verdict;
import dev.ideproxy.internal.wire.BrowserWire;
import dev.ideproxy.internal.wire.BrowserWires;
import dev.ideproxy.internal.wire.UpstreamHandshake;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.websocket.server.ServerContainer;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
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
 * Serves one WebSocket upgrade under the tunnel, after the tunnel filter has authenticated the
 * request and resolved its target. In this order:
 * <ol>
 *   <li>the {@link OriginCheck} (cross-site WebSocket hijacking): 403 without contacting the upstream;</li>
 *   <li>the upstream handshake, for this request only, to exactly {@link TunnelRequest#webSocketUri()}
 *       ({@link UpstreamConnector}); a refusal is answered with the upstream's status, an unreachable
 *       upstream with 502, a silent one with 504, and the browser is not upgraded;</li>
 *   <li>the browser's upgrade through the container's {@link ServerContainer}, with a fresh endpoint
 *       configuration bound to that upstream session and accepting the subprotocol the upstream chose;</li>
 *   <li>the {@link Relay} between the two.</li>
 * </ol>
 * A session revoked, or a shutdown begun, while this runs is refused rather than relayed. Each
 * handshake is counted once, with its outcome ({@link Telemetry#tunnelRequest}).
 *
 * <p>Thread-safe.
 */
final class WebSocketUpgrade implements UpgradeHandler {
    private static final Logger LOG = LoggerFactory.getLogger(WebSocketUpgrade.class);
    /** The servlet context attribute of the Jakarta WebSocket server container (Jakarta WebSocket 2.1). */
    static final String SERVER_CONTAINER = "jakarta.websocket.server.ServerContainer";

    private final RelaySettings settings;
    private final OriginCheck originCheck;
    private final UpstreamConnector connector;
    private final LiveRelays relays;
    private final RevocationWatcher revocations;
    private final Clock clock;
    private final Telemetry telemetry;
    private final ActivityTracker activity;
    private volatile boolean announced;

    WebSocketUpgrade(RelaySettings settings, OriginCheck originCheck, UpstreamConnector connector, LiveRelays relays,
                     RevocationWatcher revocations, Clock clock, Telemetry telemetry,
                     ActivityTracker activity) {
        this.settings = settings;
        this.originCheck = originCheck;
        this.connector = connector;
        this.relays = relays;
        this.revocations = revocations;
        this.clock = clock;
        this.telemetry = telemetry;
        this.activity = activity;
    }

    @Override
    public void upgrade(TunnelRequest tunnel, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        Outcome outcome = Outcome.CLIENT_ERROR;
        try {
            outcome = handshake(tunnel, request, response);
        } finally {
            if (telemetry.isEnabled()) {
                telemetry.tunnelRequest(tunnel.workspaceId(), request.getMethod(),
                        outcome == Outcome.UPGRADED ? 101 : response.getStatus(), outcome,
                        System.nanoTime() - IdeTunnelFilter.receivedNanos(request));
            }
        }
    }

    /** Serves the upgrade; returns how it ended. */
    private Outcome handshake(TunnelRequest tunnel, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        String origin = request.getHeader("Origin");
        if (!originCheck.allows(origin, BrowserHost.of(request))) {
            LOG.info("{}: refused a WebSocket upgrade from origin {}", tunnel.describe(),
                    origin == null ? "(none)" : LogSafe.clean(origin));
            Responses.page(response, Failure.FORBIDDEN, origin == null
                    ? "WebSocket connections without an Origin are not accepted here."
                    : "This page may not open a WebSocket to workspace " + tunnel.workspaceId() + ".");
            return Outcome.REFUSED;
        }
        if (!UpgradeHandler.isVersion13Handshake(request)) {
            Responses.page(response, Failure.BAD_REQUEST, "This is not a valid WebSocket handshake (version 13).");
            return Outcome.REFUSED;
        }
        BrowserWires wires = passthrough(request, tunnel);
        boolean passthrough = wires != null;
        ServerContainer container = (ServerContainer) request.getServletContext().getAttribute(SERVER_CONTAINER);
        if (container == null && !passthrough) {
            LOG.error("no Jakarta WebSocket container in this web application: enable WebSocket support in the server");
            Responses.page(response, Failure.INTERNAL, "WebSockets are not enabled on this server.");
            return Outcome.REFUSED;
        }
        List<String> offered = offeredSubprotocols(request);
        LiveRelay relay = passthrough
                ? new ByteRelay(tunnel, settings, relays, connector, telemetry, activity.entry(tunnel.workspaceId()))
                : new Relay(tunnel, settings, relays, connector, telemetry, activity.entry(tunnel.workspaceId()));
        LiveRelays.Admission admission = relays.add(relay);
        switch (admission) {
            case SHUT_DOWN -> {
                refuseShuttingDown(response);
                return Outcome.REFUSED;
            }
            case TOO_MANY_FOR_SESSION, TOO_MANY_FOR_USER -> {
                String scope = admission == LiveRelays.Admission.TOO_MANY_FOR_USER ? "user" : "session";
                LOG.info("{}: refused a WebSocket for {}: too many open for this {}", tunnel.describe(),
                        LogSafe.clean(tunnel.user()), scope);
                response.setHeader("Retry-After", "10");
                Responses.page(response, Failure.TOO_MANY_REQUESTS, "Too many connections are open for this " + scope
                        + ". Close some IDE tabs, then reload this one.");
                return Outcome.REFUSED;
            }
            default -> {
            }
        }
        Verdict verdict = revocations.check(relay);
        if (verdict != Verdict.VALID) {
            // Revoked between the filter's check and now: a revocation may have swept the relays before this one was listed.
            relays.remove(relay);
            refuse(response, tunnel, verdict);
            return Outcome.REFUSED;
        }
        revocations.start();
        if (tunnel.sessionEnds() != null) {
            relay.expireAfter(Duration.between(clock.instant(), tunnel.sessionEnds()));
        }
        if (relay instanceof ByteRelay bytes) {
            return passthroughHandshake(tunnel, request, response, offered, bytes, wires);
        }
        Relay messages = (Relay) relay;
        Connected connected = connectUpstream(tunnel, request, response, offered, messages);
        if (connected.refusal() != null) {
            return connected.refusal();
        }
        Session upstream = connected.upstream();
        if (relay.isClosing()) {
            upstream.disconnect();
            return refuseEnded(response, tunnel, relay);
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
            return Outcome.UPSTREAM_ERROR;
        }
        try {
            container.upgradeHttpToWebSocket(request, response, BrowserEndpoint.config(messages, accepted), Map.of());
        } catch (Exception e) {
            LOG.error("{}: the browser's WebSocket upgrade failed: {}", tunnel.describe(), LogSafe.safe(e));
            relay.abandon("browser upgrade failed");
            Responses.page(response, Failure.INTERNAL, "The WebSocket connection could not be established.");
            return Outcome.CLIENT_ERROR;
        }
        messages.expectClientWithin(settings.connectTimeout().toMillis() + 1_000);
        return Outcome.UPGRADED;
    }

    /**
     * How this upgrade's browser connection is taken over when it is relayed as bytes ({@link ByteRelay}),
     * or null when it is relayed as messages: {@code websocket.mode} allows a passthrough, the container
     * lets ide-proxy take its connection over ({@link BrowserWires}: Tomcat, or Jetty with its server
     * classes visible) and the upstream is plain {@code ws}. The first upgrade logs which way sessions
     * are relayed on this server.
     */
    private BrowserWires passthrough(HttpServletRequest request, TunnelRequest tunnel) {
        WebSocketMode mode = settings.mode();
        BrowserWires wires = mode == WebSocketMode.MESSAGE ? null : BrowserWires.of(request);
        if (!announced) {
            announced = true;
            String server = request.getServletContext().getServerInfo();
            if (mode == WebSocketMode.MESSAGE) {
                LOG.info("WebSocket sessions are relayed as messages (websocket.mode = message)");
            } else if (wires != null) {
                LOG.info("WebSocket sessions to http:// workspaces are relayed as bytes (passthrough) on {}", server);
            } else if (mode == WebSocketMode.PASSTHROUGH) {
                LOG.warn("websocket.mode = passthrough needs Tomcat (with its default useAsyncIO), or Jetty with its "
                        + "server classes visible to ide-proxy (embedded, java -jar): WebSocket sessions are relayed as "
                        + "messages on {}", server);
            } else {
                LOG.info("WebSocket sessions are relayed as messages on {} (passthrough needs Tomcat with its default "
                        + "useAsyncIO, or Jetty with its server classes visible to ide-proxy: embedded, java -jar)", server);
            }
        }
        return wires != null && tunnel.webSocketUri().startsWith("ws:") ? wires : null;
    }

    /**
     * The passthrough handshake: the upstream's first (a socket and the client handshake with the
     * browser's own key and offers, answered as in message mode when it fails), then the browser's
     * 101 with the upstream's accepted subprotocol and extensions, and the container's upgrade.
     */
    private Outcome passthroughHandshake(TunnelRequest tunnel, HttpServletRequest request, HttpServletResponse response,
                                         List<String> offered, ByteRelay relay, BrowserWires wires)
            throws IOException {
        UpstreamHandshake.Answer answer;
        CompletableFuture<UpstreamHandshake.Answer> connecting = null;
        try {
            connecting = connector.connectBytes(tunnel, request);
            answer = connecting.get(settings.connectTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            relay.abandon("upstream handshake failed");
            return refuse(response, tunnel, UpstreamConnector.classify(e.getCause()));
        } catch (TimeoutException e) {
            relay.abandon("upstream handshake timed out");
            connecting.cancel(true);
            return refuse(response, tunnel, UpstreamConnector.classify(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            relay.abandon("interrupted");
            return refuse(response, tunnel, UpstreamConnector.classify(e));
        } catch (RuntimeException e) {
            relay.abandon("connect failed");
            return refuse(response, tunnel, UpstreamConnector.classify(e));
        }
        if (answer.status() != 101) {
            relay.abandon("upstream refused");
            return refuse(response, tunnel, answer.status() >= 400 && answer.status() <= 599
                    ? new UpstreamConnector.Refusal(answer.status(), null, "HTTP " + answer.status())
                    : new UpstreamConnector.Refusal(Failure.UPSTREAM_UNREACHABLE.status(), Failure.UPSTREAM_UNREACHABLE,
                            "HTTP " + answer.status() + " instead of a WebSocket handshake"));
        }
        String key = request.getHeader("Sec-WebSocket-Key");
        String accepted = answer.header("sec-websocket-protocol");
        String problem = !UpstreamHandshake.accept(key).equals(answer.header("sec-websocket-accept"))
                ? "a wrong Sec-WebSocket-Accept"
                : accepted != null && !offered.contains(accepted) ? "subprotocol '" + LogSafe.clean(accepted) + "', which the browser did not offer"
                : answer.header("sec-websocket-extensions") != null && request.getHeader("Sec-WebSocket-Extensions") == null
                ? "extensions the browser did not offer" : null;
        if (problem != null) {
            LOG.warn("{}: the upstream answered the WebSocket handshake with {}", tunnel.describe(), problem);
            answer.wire().close();
            relay.abandon("bad upstream handshake");
            Responses.page(response, Failure.UPSTREAM_UNREACHABLE, "Workspace " + tunnel.workspaceId()
                    + " answered the WebSocket handshake wrongly.");
            return Outcome.UPSTREAM_ERROR;
        }
        if (relay.isClosing()) {
            answer.wire().close();
            return refuseEnded(response, tunnel, relay);
        }
        BrowserWire browser;
        try {
            response.setHeader("Upgrade", "websocket");
            response.setHeader("Connection", "Upgrade");
            response.setHeader("Sec-WebSocket-Accept", UpstreamHandshake.accept(key));
            if (accepted != null) {
                response.setHeader("Sec-WebSocket-Protocol", accepted);
            }
            String extensions = answer.header("sec-websocket-extensions");
            if (extensions != null) {
                response.setHeader("Sec-WebSocket-Extensions", extensions);
            }
            browser = wires.upgrade(request);
            response.setStatus(HttpServletResponse.SC_SWITCHING_PROTOCOLS);
        } catch (Exception e) {
            LOG.error("{}: the browser's WebSocket upgrade failed: {}", tunnel.describe(), LogSafe.safe(e));
            answer.wire().close();
            relay.abandon("browser upgrade failed");
            response.reset();
            Responses.page(response, Failure.INTERNAL, "The WebSocket connection could not be established.");
            return Outcome.CLIENT_ERROR;
        }
        relay.start(browser, answer.wire(), answer.leftover());
        relay.expectBrowserWithin(settings.connectTimeout().toMillis() + 1_000, browser::handedOver);
        return Outcome.UPGRADED;
    }

    /** The upstream session of an upgrade, or how the upgrade ended when there is none. */
    private record Connected(Session upstream, Outcome refusal) {
    }

    /** The upstream session for this upgrade, or the outcome after answering the browser with the failure. */
    private Connected connectUpstream(TunnelRequest tunnel, HttpServletRequest request, HttpServletResponse response,
                                      List<String> offered, Relay relay) throws IOException {
        CompletableFuture<Session> connecting;
        try {
            connecting = connector.connect(tunnel, request, offered, new UpstreamEndpoint(relay));
        } catch (IOException | RuntimeException e) {
            relay.abandon("connect failed");
            return new Connected(null, refuse(response, tunnel, UpstreamConnector.classify(e)));
        }
        UpstreamConnector.Refusal refusal;
        try {
            // The client's own timeouts fire first; this bound only guards against a lost completion.
            return new Connected(connecting.get(settings.connectTimeout().toMillis() + 1_000, TimeUnit.MILLISECONDS),
                    null);
        } catch (ExecutionException e) {
            relay.abandon("upstream handshake failed");
            refusal = UpstreamConnector.classify(e.getCause());
        } catch (TimeoutException e) {
            relay.abandon("upstream handshake timed out");
            connecting.cancel(true);
            refusal = UpstreamConnector.classify(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            relay.abandon("interrupted");
            refusal = UpstreamConnector.classify(e);
        }
        return new Connected(null, refuse(response, tunnel, refusal));
    }

    /**
     * Answers a failed upstream handshake: with the upstream's own status (proxied), or the failure's
     * (an upstream error, counted by kind).
     */
    private Outcome refuse(HttpServletResponse response, TunnelRequest tunnel, UpstreamConnector.Refusal refusal)
            throws IOException {
        if (refusal.failure() != null) {
            LOG.warn("{}: WebSocket handshake: {} ({})", tunnel.describe(), refusal.failure().title(), refusal.detail());
            Responses.page(response, refusal.failure(), refusal.failure().upstreamMessage(tunnel.workspaceId()));
            Telemetry.UpstreamFailure kind = Relay.upstreamFailure(refusal.failure());
            if (kind != null) {
                telemetry.upstreamFailure(tunnel.workspaceId(), Telemetry.Protocol.WEBSOCKET, kind);
            }
            return Outcome.UPSTREAM_ERROR;
        }
        LOG.info("{}: the upstream refused the WebSocket with HTTP {}", tunnel.describe(), refusal.status());
        String message = "Workspace " + tunnel.workspaceId() + " refused the WebSocket connection (HTTP "
                + refusal.status() + ").";
        Responses.notice(response, refusal.status(), "The workspace refused the connection", message);
        return Outcome.PROXIED;
    }

    /** Refuses an upgrade whose session was revoked (401), or cannot be checked now (503). */
    private static void refuse(HttpServletResponse response, TunnelRequest tunnel, Verdict verdict) throws IOException {
        if (verdict == Verdict.UNKNOWN) {
            response.setHeader("Retry-After", "5");
            Responses.page(response, Failure.SERVICE_UNAVAILABLE, "Your session for workspace " + tunnel.workspaceId()
                    + " cannot be checked right now. Try again in a few seconds.");
            return;
        }
        Responses.page(response, Failure.UNAUTHENTICATED, "Your session for workspace " + tunnel.workspaceId()
                + " was ended. Open the IDE again from the portal.");
    }

    /** The relay was revoked, or ide-proxy began shutting down, while the upstream handshake was under way. */
    private Outcome refuseEnded(HttpServletResponse response, TunnelRequest tunnel, LiveRelay relay) throws IOException {
        Verdict now = revocations.check(relay);
        if (now != Verdict.VALID) {
            refuse(response, tunnel, now);
        } else {
            refuseShuttingDown(response);
        }
        return Outcome.REFUSED;
    }

    /** Draining or stopped: the browser retries, on another node where there is one. */
    private static void refuseShuttingDown(HttpServletResponse response) throws IOException {
        response.setHeader("Retry-After", "5");
        Responses.page(response, Failure.SERVICE_UNAVAILABLE, "ide-proxy is restarting. Try again in a few seconds.");
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
}

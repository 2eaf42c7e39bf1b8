package dev.ideproxy.internal.websocket;

import dev.ideproxy.internal.telemetry.Telemetry;
import dev.ideproxy.internal.telemetry.Telemetry.Direction;
import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.internal.tunnel.TunnelRequest;
import dev.ideproxy.internal.web.Failure;
import dev.ideproxy.internal.web.LogSafe;
import jakarta.websocket.CloseReason;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.eclipse.jetty.util.thread.Scheduler;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied WebSocket: the browser's session ({@code clientSession}, Jakarta, served by the
 * container) and the upstream session opened for it ({@code upstreamSession}, Jetty's client), with
 * every frame relayed between them.
 *
 * <p><b>Flow control.</b> Upstream to browser: the upstream listener demands explicitly; the relay
 * asks Jetty for the next upstream frame only after the browser send of the previous one completed
 * (and for the first only once the browser side is open, so nothing the upstream sends right after
 * connecting is lost). Browser to upstream: each part of a browser message is sent upstream before
 * its handler returns, so the container reads nothing more from the browser meanwhile. Either way
 * at most one frame per direction is in the proxy, whatever the message sizes, and a slow reader
 * stalls its sender through TCP.
 *
 * <p><b>Streaming.</b> Fragments cross as fragments: partial handlers on both sides, partial sends on
 * both sides. A frame that is a whole message goes to the browser with an asynchronous send (no
 * thread waits); a fragment with a blocking partial send, the only partial send Jakarta offers.
 * Sends to the browser are serialised by a {@link BrowserSender}.
 *
 * <p><b>Limits and liveness.</b> The relay counts each message against the configured limit and
 * closes both sides with 1009 when one is exceeded (the containers do not enforce it for partial
 * messages). Its {@link KeepAlive} pings a side that has been quiet for the ping interval (a payload
 * of its own whose pongs are not relayed) and ends the session with 1001 when a side has shown no
 * life for the idle timeout.
 *
 * <p><b>Closing.</b> Every ending goes through {@link #end}: the relay is marked closing once, each
 * side still open is closed with its code, timers stop and the relay leaves the registry. A close
 * from one side is passed to the other with the same code and reason ({@link CloseCodes} maps the
 * codes that cannot be sent); a failure of one side closes both with the code {@link Failure#of}
 * gives it (1011, 1009 for an oversized message, 1001 after a timeout); shutdown closes both with
 * 1001. A side that does not finish its close handshake within {@value #CLOSE_GRACE_MILLIS} ms is
 * disconnected.
 *
 * <p><b>Telemetry.</b> The payload of each data frame is counted as it is relayed, a message at its
 * last frame; a relay counts as opened once both sides are, and as closed (with the code of the
 * browser's side) when an opened relay ends; an upstream that fails or drops an open relay counts as
 * an upstream failure.
 *
 * <p><b>Activity.</b> Each relayed frame, either way, is activity of the workspace: the relay took the
 * workspace's {@link ActivityTracker.Entry} once, and per frame calls {@link ActivityTracker.Entry#frame()}
 * (no allocation, no lock). The relay's own keep-alive pings and their pongs do not count.
 *
 * <p><b>Threads.</b> Upstream events arrive one at a time (each waits for a demand); browser events
 * one at a time per session (the container's guarantee); fields confined to one of those sequences
 * are plain, shared ones are volatile or guarded by {@code this}. The relay is thread-safe.
 */
final class Relay implements LiveRelay, KeepAlive.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(Relay.class);
    /** Time a side gets to complete its close handshake before its connection is dropped. */
    static final long CLOSE_GRACE_MILLIS = 5_000;

    /** The two ends of the relay. */
    enum Side {
        CLIENT("browser"), UPSTREAM("upstream");

        private final String label;

        Side(String label) {
            this.label = label;
        }

        String label() {
            return label;
        }
    }

    private final TunnelRequest tunnel;
    private final RelaySettings settings;
    private final LiveRelays registry;
    private final UpstreamConnector connector;
    private final KeepAlive keepAlive;
    private final Telemetry telemetry;
    private final ActivityTracker.Entry activity;
    private final BrowserSender toClient = new BrowserSender();
    /** True while a demand() on the upstream is outstanding; Jetty allows only one. */
    private final AtomicBoolean upstreamDemand = new AtomicBoolean();

    // Guarded by this.
    private boolean closing;
    private int owedClientCode;
    private String owedClientReason;
    private Scheduler.Task expiry;
    /** Counted as opened (both sides open before it began closing): its end is counted too. */
    private boolean opened;

    private volatile jakarta.websocket.Session clientSession;
    private volatile Session upstreamSession;
    private volatile boolean clientClosed;
    private volatile boolean upstreamClosed;

    // Confined to the upstream's event sequence.
    private boolean upstreamInMessage;
    private final MessageLimit upstreamLimit;
    // Confined to the container's event sequence for the browser session.
    private final MessageLimit clientLimit;

    Relay(TunnelRequest tunnel, RelaySettings settings, LiveRelays registry, UpstreamConnector connector,
          Telemetry telemetry, ActivityTracker.Entry activity) {
        this.tunnel = tunnel;
        this.telemetry = telemetry;
        this.activity = activity;
        this.settings = settings;
        this.registry = registry;
        this.connector = connector;
        this.keepAlive = new KeepAlive(settings, connector, this);
        this.upstreamLimit = new MessageLimit(settings.maxMessageSize());
        this.clientLimit = new MessageLimit(settings.maxMessageSize());
    }

    @Override
    public TunnelRequest tunnel() {
        return tunnel;
    }

    RelaySettings settings() {
        return settings;
    }

    /** The activity of the relay's workspace, which counts it as a live WebSocket while it is registered. */
    @Override
    public ActivityTracker.Entry activity() {
        return activity;
    }

    /** For logs: workspace and upstream path, never the query. */
    @Override
    public String describe() {
        return tunnel.describe();
    }

    // ------------------------------------------------------------------ opening

    void onUpstreamOpen(Session session) {
        upstreamSession = session;
        keepAlive.touch(Side.UPSTREAM);
        if (isClosing()) {
            // Given up on before the handshake completed (browser gone, timeout, shutdown).
            session.disconnect();
        }
    }

    /** The browser's handshake completed (its session tuned by the endpoint): start reading the upstream. */
    void onClientOpen(jakarta.websocket.Session session) {
        int owedCode;
        String owedReason;
        synchronized (this) {
            clientSession = session;
            keepAlive.touch(Side.CLIENT);
            owedCode = closing ? owedClientCode : 0;
            owedReason = owedClientReason;
            if (!closing) {
                keepAlive.start();
                opened = true;
                telemetry.relayOpened(tunnel.workspaceId());
            }
        }
        if (owedCode != 0) {
            // The upstream ended while the browser's handshake was under way.
            closeClient(owedCode, owedReason);
            return;
        }
        LOG.debug("{}: relaying", describe());
        demandUpstream();
    }

    /**
     * Ends the session when its login does: after {@code left}, the browser is closed with 1008
     * ("session expired") and the upstream with 1001, so a WebSocket cannot outlive the session's
     * maximum lifetime. The browser's reconnect then needs a new bootstrap.
     */
    @Override
    public void expireAfter(Duration left) {
        long millis = Math.max(0, left.toMillis());
        Scheduler.Task task = connector.scheduler().schedule(
                () -> connector.executor().execute(this::sessionExpired), millis, TimeUnit.MILLISECONDS);
        synchronized (this) {
            if (!closing) {
                expiry = task;
                return;
            }
        }
        task.cancel();
    }

    private void sessionExpired() {
        endSession("session expired", "closed at the end of the session's maximum lifetime");
    }

    /**
     * Ends the relay because its session was revoked: the browser is closed with 1008 ("session
     * revoked") and the upstream with 1001. The browser's reconnect is refused (401).
     *
     * @return false when the relay was already closing
     */
    @Override
    public boolean revoke() {
        return endSession("session revoked", "closed: its session was revoked");
    }

    private boolean endSession(String reason, String logMessage) {
        if (!end(CloseCodes.POLICY, CloseCodes.GOING_AWAY, reason)) {
            return false;
        }
        LOG.info("{}: {}", describe(), logMessage);
        return true;
    }

    /** Called after the browser's upgrade was handed to the container: it must open in time. */
    void expectClientWithin(long millis) {
        connector.scheduler().schedule(() -> {
            if (clientSession == null && !isClosing()) {
                connector.executor().execute(() -> abandon("the browser did not complete its handshake"));
            }
        }, millis, TimeUnit.MILLISECONDS);
    }

    /** Gives up on a relay whose browser side never opened: the upstream is closed with 1001. */
    @Override
    public void abandon(String why) {
        if (end(CloseCodes.GOING_AWAY, CloseCodes.GOING_AWAY, why)) {
            LOG.debug("{}: {}", describe(), why);
        }
    }

    // ------------------------------------------------------------------ upstream to browser

    void onUpstreamText(String part, boolean last) {
        upstreamDemand.set(false);
        keepAlive.touch(Side.UPSTREAM);
        activity.frame();
        if (isClosing()) {
            demandUpstream(); // read on towards the upstream's close frame
            return;
        }
        boolean whole = !upstreamInMessage && last;
        upstreamInMessage = !last;
        long bytes = MessageLimit.utf8Length(part);
        if (!withinLimit(upstreamLimit, Side.UPSTREAM, bytes, last)) {
            return;
        }
        telemetry.webSocketData(tunnel.workspaceId(), Direction.TO_BROWSER, bytes, last);
        if (whole) {
            sendToClient(null, (s, completion) -> s.getAsyncRemote().sendText(part,
                    result -> completion.accept(result.isOK() ? null : result.getException())));
        } else if (part.isEmpty() && !last) {
            demandUpstream(); // a fragment that ended inside a UTF-8 sequence: nothing to send yet
        } else {
            sendToClient(null, (s, completion) -> {
                s.getBasicRemote().sendText(part, last);
                completion.accept(null);
            });
        }
    }

    void onUpstreamBinary(ByteBuffer part, boolean last, Callback callback) {
        upstreamDemand.set(false);
        keepAlive.touch(Side.UPSTREAM);
        activity.frame();
        if (isClosing()) {
            callback.succeed();
            demandUpstream();
            return;
        }
        boolean whole = !upstreamInMessage && last;
        upstreamInMessage = !last;
        if (!withinLimit(upstreamLimit, Side.UPSTREAM, part.remaining(), last)) {
            callback.succeed();
            return;
        }
        telemetry.webSocketData(tunnel.workspaceId(), Direction.TO_BROWSER, part.remaining(), last);
        if (whole) {
            sendToClient(callback, (s, completion) -> s.getAsyncRemote().sendBinary(part,
                    result -> completion.accept(result.isOK() ? null : result.getException())));
        } else {
            sendToClient(callback, (s, completion) -> {
                s.getBasicRemote().sendBinary(part, last);
                completion.accept(null);
            });
        }
    }

    void onUpstreamPing(ByteBuffer payload) {
        upstreamDemand.set(false);
        keepAlive.touch(Side.UPSTREAM);
        activity.frame();
        if (isClosing()) {
            demandUpstream();
            return;
        }
        // Relayed, so the upstream's ping is answered by the browser itself.
        sendToClient(null, (s, completion) -> {
            s.getBasicRemote().sendPing(payload);
            completion.accept(null);
        });
    }

    void onUpstreamPong(ByteBuffer payload) {
        upstreamDemand.set(false);
        keepAlive.touch(Side.UPSTREAM);
        if (isClosing() || KeepAlive.isOwnPayload(payload)) {
            demandUpstream();
            return;
        }
        activity.frame();
        sendToClient(null, (s, completion) -> {
            s.getBasicRemote().sendPong(payload);
            completion.accept(null);
        });
    }

    void onUpstreamClose(int code, String reason) {
        upstreamClosed = true;
        closeFrom(Side.UPSTREAM, code, reason);
    }

    void onUpstreamError(Throwable cause) {
        fail(Side.UPSTREAM, cause);
    }

    /** Starts one send to the browser; when it completes, the upstream frame is released and the next one demanded. */
    private void sendToClient(Callback frameCallback, ClientSend send) {
        toClient.submit(done -> {
            AtomicBoolean once = new AtomicBoolean();
            Consumer<Throwable> completion = failure -> {
                if (once.compareAndSet(false, true)) {
                    done.run();
                    afterClientSend(failure, frameCallback);
                }
            };
            jakarta.websocket.Session s = clientSession;
            try {
                send.start(s, completion);
            } catch (Throwable t) {
                completion.accept(t);
            }
        });
    }

    private void afterClientSend(Throwable failure, Callback frameCallback) {
        if (failure != null) {
            if (frameCallback != null) {
                // Released as consumed: failing it would make Jetty close the upstream with 1011 itself.
                frameCallback.succeed();
            }
            fail(Side.CLIENT, failure);
            return;
        }
        keepAlive.touch(Side.CLIENT);
        if (frameCallback != null) {
            frameCallback.succeed();
        }
        demandUpstream();
    }

    /** Asks Jetty for the next upstream event, unless a demand is already outstanding. */
    private void demandUpstream() {
        Session s = upstreamSession;
        if (s != null && !upstreamClosed && upstreamDemand.compareAndSet(false, true)) {
            try {
                s.demand();
            } catch (RuntimeException e) {
                LOG.debug("{}: demand on a closed upstream: {}", describe(), LogSafe.safe(e));
            }
        }
    }

    /** Counts a part against its direction's limit; ends the relay with 1009 when the message is too big. */
    private boolean withinLimit(MessageLimit limit, Side from, long bytes, boolean last) {
        long total = limit.exceededBy(bytes, last);
        if (total < 0) {
            return true;
        }
        tooBig(from, total);
        return false;
    }

    // ------------------------------------------------------------------ browser to upstream

    /** A part of a browser text message; returns once the upstream took it. */
    void onClientText(String part, boolean last) {
        keepAlive.touch(Side.CLIENT);
        activity.frame();
        long bytes = MessageLimit.utf8Length(part);
        if (isClosing() || !withinLimit(clientLimit, Side.CLIENT, bytes, last)) {
            return;
        }
        telemetry.webSocketData(tunnel.workspaceId(), Direction.TO_UPSTREAM, bytes, last);
        if (part.isEmpty() && !last) {
            return; // a part that ended inside a UTF-8 sequence: nothing to send yet
        }
        Callback.Completable sent = new Callback.Completable();
        try {
            upstreamSession.sendPartialText(part, last, sent);
        } catch (RuntimeException e) {
            sent.fail(e);
        }
        awaitUpstream(sent);
    }

    /** A part of a browser binary message; returns once the upstream took it. */
    void onClientBinary(ByteBuffer part, boolean last) {
        keepAlive.touch(Side.CLIENT);
        activity.frame();
        if (isClosing() || !withinLimit(clientLimit, Side.CLIENT, part.remaining(), last)) {
            return;
        }
        telemetry.webSocketData(tunnel.workspaceId(), Direction.TO_UPSTREAM, part.remaining(), last);
        Callback.Completable sent = new Callback.Completable();
        try {
            upstreamSession.sendPartialBinary(part, last, sent);
        } catch (RuntimeException e) {
            sent.fail(e);
        }
        awaitUpstream(sent);
    }

    void onClientPong(ByteBuffer payload) {
        keepAlive.touch(Side.CLIENT);
        if (isClosing() || KeepAlive.isOwnPayload(payload)) {
            return;
        }
        activity.frame();
        Callback.Completable sent = new Callback.Completable();
        try {
            upstreamSession.sendPong(payload, sent);
        } catch (RuntimeException e) {
            sent.fail(e);
        }
        awaitUpstream(sent);
    }

    void onClientClose(int code, String reason) {
        clientClosed = true;
        closeFrom(Side.CLIENT, code, reason);
    }

    void onClientError(Throwable cause) {
        fail(Side.CLIENT, cause);
    }

    /**
     * Holds the container's thread until the upstream send completed, so the container reads no
     * further browser data meanwhile. The buffer handed to the send belongs to the container, so
     * this returns only once Jetty is done with it; when the relay is closing and the upstream does
     * not let go within the grace period, the upstream is disconnected, which fails the send.
     */
    private void awaitUpstream(Callback.Completable sent) {
        long start = System.nanoTime();
        boolean disconnected = false;
        while (true) {
            try {
                sent.get(1, TimeUnit.SECONDS);
                keepAlive.touch(Side.UPSTREAM);
                return;
            } catch (TimeoutException e) {
                if (!disconnected && isClosing()
                        && System.nanoTime() - start > TimeUnit.MILLISECONDS.toNanos(CLOSE_GRACE_MILLIS)) {
                    disconnected = true;
                    upstreamSession.disconnect();
                }
            } catch (ExecutionException e) {
                fail(Side.UPSTREAM, e.getCause());
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail(Side.CLIENT, e);
                return;
            }
        }
    }

    // ------------------------------------------------------------------ keep-alive and idle timeout

    @Override
    public void quiet(Side side) {
        if (side == Side.UPSTREAM) {
            Session s = upstreamSession;
            if (s != null) {
                s.sendPing(ByteBuffer.wrap(KeepAlive.PAYLOAD), Callback.NOOP);
            }
        } else if (!toClient.busy()) {
            // A Jakarta ping blocks: on the executor, and only when no other send is under way.
            connector.executor().execute(() -> toClient.submitIfIdle(done -> {
                try {
                    clientSession.getBasicRemote().sendPing(ByteBuffer.wrap(KeepAlive.PAYLOAD));
                } catch (Exception e) {
                    LOG.debug("{}: keep-alive ping to the browser failed: {}", describe(), LogSafe.safe(e));
                } finally {
                    done.run();
                }
            }));
        }
    }

    @Override
    public void silent(Side side) {
        if (end(CloseCodes.GOING_AWAY, CloseCodes.GOING_AWAY, "idle timeout")) {
            LOG.info("{}: closed after {} of silence from the {}", describe(), settings.idleTimeout(), side.label);
        }
    }

    // ------------------------------------------------------------------ closing

    /** One side closed with {@code code}: the other side gets the same code and reason. */
    private void closeFrom(Side side, int code, String reason) {
        int forwarded = CloseCodes.forward(code);
        String forwardedReason = CloseCodes.forwardReason(code, reason, side.label + " connection lost");
        // Counted with the code the browser sent when it closed, else with the one it is sent.
        if (!end(forwarded, forwarded, forwardedReason, side == Side.CLIENT ? code : forwarded)) {
            return;
        }
        if (code == CloseCodes.ABNORMAL && side == Side.UPSTREAM) {
            telemetry.upstreamFailure(tunnel.workspaceId(), Telemetry.Protocol.WEBSOCKET, Telemetry.UpstreamFailure.RESET);
        }
        if (code == CloseCodes.ABNORMAL) {
            LOG.info("{}: the {} connection ended without a close frame", describe(), side.label);
        } else {
            LOG.debug("{}: the {} closed with {}", describe(), side.label, code);
        }
    }

    /** One side failed: both are closed with the code of the failure ({@link Failure#of}). */
    private void fail(Side side, Throwable cause) {
        Failure failure = Failure.of(cause);
        String reason = switch (failure) {
            case MESSAGE_TOO_BIG -> "message too big";
            case UPSTREAM_TIMEOUT -> side.label + " timed out";
            case CONNECTION_LOST -> side.label + " connection lost";
            default -> side.label + " failed";
        };
        if (!end(failure.closeCode(), failure.closeCode(), reason)) {
            return;
        }
        if (side == Side.UPSTREAM && upstreamSession == null) {
            // A failed handshake: the upgrade reports (and counts) it with the answer it gives the browser.
            LOG.debug("{}: upstream handshake failed: {}", describe(), LogSafe.safe(cause));
        } else if (side == Side.UPSTREAM) {
            LOG.warn("{}: the upstream WebSocket failed: {}", describe(), LogSafe.safe(cause));
            Telemetry.UpstreamFailure kind = upstreamFailure(failure);
            if (kind != null) {
                telemetry.upstreamFailure(tunnel.workspaceId(), Telemetry.Protocol.WEBSOCKET, kind);
            }
        } else {
            LOG.info("{}: the browser WebSocket failed: {}", describe(), LogSafe.safe(cause));
        }
    }

    /** The kind of upstream failure {@code failure} counts as, or null for none (a message too big). */
    static Telemetry.UpstreamFailure upstreamFailure(Failure failure) {
        return switch (failure) {
            case UPSTREAM_UNREACHABLE -> Telemetry.UpstreamFailure.REFUSED;
            case UPSTREAM_TIMEOUT -> Telemetry.UpstreamFailure.TIMEOUT;
            case CONNECTION_LOST -> Telemetry.UpstreamFailure.RESET;
            default -> null;
        };
    }

    private void tooBig(Side from, long bytes) {
        int code = Failure.MESSAGE_TOO_BIG.closeCode();
        if (end(code, code, "message too big")) {
            LOG.info("{}: a message from the {} exceeded {} bytes ({} so far); closing with {}", describe(),
                    from.label, settings.maxMessageSize(), bytes, code);
        }
    }

    /** ide-proxy is stopping: both sides are closed with 1001. */
    @Override
    public void shutdown() {
        end(CloseCodes.GOING_AWAY, CloseCodes.GOING_AWAY, "ide-proxy is shutting down");
    }

    /**
     * ide-proxy is draining: the browser is told 1012 (service restart), on which it reconnects, to
     * another node where there is one; the upstream 1001 (this client goes away).
     */
    @Override
    public void restart() {
        end(CloseCodes.SERVICE_RESTART, CloseCodes.GOING_AWAY, "ide-proxy is restarting");
    }

    @Override
    public synchronized boolean isClosing() {
        return closing;
    }

    /**
     * Ends the relay, once: marks it closing (a browser side not open yet is closed with
     * {@code clientCode} as soon as it opens), closes each side that is still open, stops the timers
     * and leaves the registry.
     *
     * @return false when the relay was already ending
     */
    private boolean end(int clientCode, int upstreamCode, String reason) {
        return end(clientCode, upstreamCode, reason, clientCode);
    }

    /** {@link #end(int, int, String)}, counted (when the relay was open) as closed with {@code countedCode}. */
    private boolean end(int clientCode, int upstreamCode, String reason, int countedCode) {
        Scheduler.Task e;
        boolean wasOpen;
        synchronized (this) {
            if (closing) {
                return false;
            }
            closing = true;
            owedClientCode = clientCode;
            owedClientReason = reason;
            e = expiry;
            expiry = null;
            wasOpen = opened;
        }
        if (wasOpen) {
            telemetry.relayClosed(tunnel.workspaceId(), countedCode);
        }
        closeClient(clientCode, reason);
        closeUpstream(upstreamCode, reason);
        keepAlive.stop();
        if (e != null) {
            e.cancel();
        }
        registry.remove(this);
        return true;
    }

    /** Closes the browser side after whatever send is in progress; forcibly after the grace period. */
    private void closeClient(int code, String reason) {
        jakarta.websocket.Session s;
        synchronized (this) {
            s = clientSession;
            if (s == null) {
                return; // not open yet: onClientOpen() closes it with the owed code
            }
        }
        if (clientClosed) {
            return;
        }
        CloseReason closeReason = new CloseReason(CloseReason.CloseCodes.getCloseCode(code), CloseCodes.truncate(reason));
        AtomicBoolean sent = new AtomicBoolean();
        toClient.submit(done -> {
            try {
                closeQuietly(s, closeReason);
            } finally {
                sent.set(true);
                done.run();
            }
        });
        if (!sent.get()) {
            connector.scheduler().schedule(() -> {
                if (!sent.get() && !clientClosed) {
                    connector.executor().execute(() -> closeQuietly(s, closeReason));
                }
            }, CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private void closeQuietly(jakarta.websocket.Session s, CloseReason closeReason) {
        try {
            if (s.isOpen()) {
                s.close(closeReason);
            }
        } catch (Exception e) {
            LOG.debug("{}: closing the browser session: {}", describe(), LogSafe.safe(e));
        }
    }

    /** Closes the upstream side, keeps reading towards its close reply, and disconnects it after the grace period. */
    private void closeUpstream(int code, String reason) {
        Session s = upstreamSession;
        if (s == null || upstreamClosed) {
            return;
        }
        try {
            s.close(code, CloseCodes.truncate(reason), Callback.NOOP);
        } catch (RuntimeException e) {
            LOG.debug("{}: closing the upstream session: {}", describe(), LogSafe.safe(e));
        }
        demandUpstream();
        connector.scheduler().schedule(() -> {
            if (!upstreamClosed) {
                s.disconnect();
            }
        }, CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }

    // ------------------------------------------------------------------ helpers

    /** One send to the browser, reporting its outcome (null for success) exactly once. */
    @FunctionalInterface
    private interface ClientSend {
        void start(jakarta.websocket.Session clientSession, Consumer<Throwable> completion) throws Exception;
    }

    // ------------------------------------------------------------------ for tests and diagnostics

    jakarta.websocket.Session clientSession() {
        return clientSession;
    }

    Session upstreamSession() {
        return upstreamSession;
    }
}

package dev.ideproxy.internal.websocket;

import dev.ideproxy.internal.tunnel.HeaderPolicy;
import dev.ideproxy.internal.tunnel.TunnelRequest;
import dev.ideproxy.internal.web.Failure;
import jakarta.servlet.http.HttpServletRequest;
import dev.ideproxy.internal.web.LogSafe;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import dev.ideproxy.internal.wire.UpstreamHandshake;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ScheduledExecutorScheduler;
import org.eclipse.jetty.util.thread.Scheduler;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens each relay's own upstream WebSocket with Jetty's native client, to exactly the URI of the
 * {@link TunnelRequest} (there is no default target), carrying the browser's handshake headers as
 * the {@link HeaderPolicy} passes them and offering the browser's subprotocols.
 *
 * <p>One {@link WebSocketClient} serves every relay of an installed ide-proxy. It is started on the
 * first upgrade and stopped by {@link #stop()}, which disconnects whatever is still open. Its
 * settings suit an IDE rather than Jetty's defaults: idle timeout and message limits from the
 * configuration (Jetty's client would close after 30 s and refuse messages over 64 KiB), connect
 * and handshake bounded by the upstream connect timeout, no cookie store (an upstream's cookies
 * must never reach another user's session), no redirects, no User-Agent of its own. Its thread pool
 * (threads named {@value #THREAD_NAME}-INSTANCE-N, created on demand and released when idle) and
 * its one scheduler thread also run the relays' keep-alive timers and the few blocking sends to
 * browsers: no relay has a thread of its own.
 *
 * <p>Thread-safe.
 */
final class UpstreamConnector {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamConnector.class);
    static final String THREAD_NAME = "ide-proxy-ws";
    /**
     * Upper bound of client threads. Most work is non-blocking; a thread is held only while a
     * fragment of a fragmented upstream message waits for a slow browser to take it.
     */
    private static final int MAX_THREADS = 200;
    /** Size of the client's network reads, hence of the parts upstream messages are relayed in. */
    static final int INPUT_BUFFER = 64 * 1024;
    /** Handshake headers the client writes itself, or that must not cross (extensions are per hop). */
    private static final Set<String> HANDSHAKE_HEADERS = Set.of("sec-websocket-key", "sec-websocket-version",
            "sec-websocket-extensions", "sec-websocket-protocol", "sec-websocket-accept", "content-length");

    private static final AtomicInteger INSTANCES = new AtomicInteger();

    private final HeaderPolicy headers;
    private final RelaySettings settings;
    private final String threadName = THREAD_NAME + "-" + INSTANCES.incrementAndGet();
    private volatile WebSocketClient client;
    private UpstreamHandshake.Group sockets;
    private final AtomicInteger passthroughOpen = new AtomicInteger();
    private boolean stopped;

    UpstreamConnector(HeaderPolicy headers, RelaySettings settings) {
        this.headers = headers;
        this.settings = settings;
    }

    /**
     * Starts the upstream handshake for one browser upgrade.
     *
     * @param subprotocols the browser's offered subprotocols, in its order
     * @param endpoint     the listener bound to this relay
     * @return completes with the open upstream session, or fails as {@link #classify(Throwable)} explains
     */
    CompletableFuture<Session> connect(TunnelRequest tunnel, HttpServletRequest browserRequest,
                                       List<String> subprotocols, UpstreamEndpoint endpoint) throws IOException {
        URI uri = URI.create(tunnel.webSocketUri());
        ClientUpgradeRequest upgrade = new ClientUpgradeRequest(uri);
        Map<String, List<String>> copied = new LinkedHashMap<>();
        headers.forEachUpstreamHeader(browserRequest, HANDSHAKE_HEADERS,
                (name, value) -> copied.computeIfAbsent(name, n -> new ArrayList<>(1)).add(value));
        copied.forEach(upgrade::setHeader);
        if (!subprotocols.isEmpty()) {
            upgrade.setSubProtocols(subprotocols);
        }
        upgrade.setTimeout(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        return client().connect(endpoint, upgrade);
    }

    /**
     * Starts the upstream handshake of a passthrough relay: a socket to exactly
     * {@link TunnelRequest#webSocketUri()}, the headers the {@link HeaderPolicy} passes, and the
     * browser's own key, subprotocols and extension offers. Completes with the upstream's answer.
     */
    CompletableFuture<UpstreamHandshake.Answer> connectBytes(TunnelRequest tunnel, HttpServletRequest browserRequest) {
        URI uri = URI.create(tunnel.webSocketUri());
        List<Map.Entry<String, String>> sent = new ArrayList<>();
        boolean[] host = {false};
        headers.forEachUpstreamHeader(browserRequest, HANDSHAKE_HEADERS, (name, value) -> {
            host[0] |= name.equalsIgnoreCase("host");
            sent.add(Map.entry(name, value));
        });
        if (!host[0]) {
            sent.add(0, Map.entry("Host", uri.getRawAuthority()));
        }
        sent.add(Map.entry("Upgrade", "websocket"));
        sent.add(Map.entry("Connection", "Upgrade"));
        sent.add(Map.entry("Sec-WebSocket-Key", browserRequest.getHeader("Sec-WebSocket-Key")));
        sent.add(Map.entry("Sec-WebSocket-Version", "13"));
        for (String name : List.of("Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions")) {
            List<String> values = java.util.Collections.list(browserRequest.getHeaders(name));
            if (!values.isEmpty()) {
                sent.add(Map.entry(name, String.join(", ", values)));
            }
        }
        Scheduler scheduler = scheduler();
        return UpstreamHandshake.open(sockets(), uri, sent, settings.connectTimeout().toMillis(), (task, millis) -> {
            Scheduler.Task t = scheduler.schedule(task, millis, TimeUnit.MILLISECONDS);
            return t::cancel;
        });
    }

    /** A passthrough relay's upstream socket opened, or closed: counted for {@link #stop()} and diagnostics. */
    void passthroughOpened() {
        passthroughOpen.incrementAndGet();
    }

    void passthroughClosed() {
        passthroughOpen.decrementAndGet();
    }

    private synchronized UpstreamHandshake.Group sockets() {
        if (stopped) {
            throw new IllegalStateException("ide-proxy is shutting down");
        }
        if (sockets == null) {
            sockets = new UpstreamHandshake.Group(threadName + "-io", Math.max(2, Runtime.getRuntime().availableProcessors()));
        }
        return sockets;
    }

    /** The shared client's executor, for work that may block (never the scheduler thread). */
    Executor executor() {
        return client().getExecutor();
    }

    /** The shared client's scheduler, for timers; its tasks must not block. */
    Scheduler scheduler() {
        return client().getHttpClient().getScheduler();
    }

    /** Upstream sessions currently open; for tests and diagnostics. */
    int openSessions() {
        WebSocketClient c = client;
        return (c == null ? 0 : c.getOpenSessions().size()) + passthroughOpen.get();
    }

    /** Prefix of this connector's thread names; for tests and diagnostics. */
    String threadName() {
        return threadName;
    }

    /** True once {@link #stop()} was called, whether or not the client has finished stopping. */
    synchronized boolean isStopping() {
        return stopped;
    }

    /** True once {@link #stop()} ran and the client (if any was started) has stopped. */
    boolean isStopped() {
        WebSocketClient c = client;
        synchronized (this) {
            return stopped && (c == null || c.isStopped());
        }
    }

    /** The client, started on first use; fails after {@link #stop()}. */
    WebSocketClient client() {
        WebSocketClient c = client;
        if (c != null) {
            return c;
        }
        synchronized (this) {
            if (stopped) {
                throw new IllegalStateException("ide-proxy is shutting down");
            }
            if (client == null) {
                client = newClient();
            }
            return client;
        }
    }

    /** Stops the client: open upstream sessions are closed, its threads end. */
    void stop() {
        WebSocketClient c;
        UpstreamHandshake.Group s;
        synchronized (this) {
            stopped = true;
            c = client;
            s = sockets;
        }
        if (s != null) {
            s.close();
        }
        if (c == null) {
            return;
        }
        try {
            c.stop();
            c.getHttpClient().stop();
        } catch (Exception e) {
            LOG.warn("stopping the upstream WebSocket client failed: {}", LogSafe.safe(e));
        }
    }

    private WebSocketClient newClient() {
        QueuedThreadPool threads = new QueuedThreadPool(MAX_THREADS, 1, 30_000);
        threads.setName(threadName);
        threads.setDaemon(true);
        threads.setReservedThreads(0);
        HttpClient http = new HttpClient();
        http.setExecutor(threads);
        http.setScheduler(new ScheduledExecutorScheduler(threadName + "-scheduler", true));
        http.setConnectTimeout(settings.connectTimeout().toMillis());
        http.setHttpCookieStore(new HttpCookieStore.Empty());
        http.setFollowRedirects(false);
        http.setUserAgentField(null);
        WebSocketClient ws = new WebSocketClient(http);
        ws.setIdleTimeout(settings.idleTimeout());
        ws.setMaxTextMessageSize(settings.maxMessageSize());
        ws.setMaxBinaryMessageSize(settings.maxMessageSize());
        // Jetty reads 4 KiB at a time by default and hands each read on as a part: a 1 MiB message
        // would cross as 256+ browser frames, each a send and a demand. A pooled buffer, held only
        // while reading: idle sessions hold none.
        ws.setInputBufferSize(INPUT_BUFFER);
        ws.setConnectTimeout(settings.connectTimeout().toMillis());
        ws.setStopTimeout(2_000);
        try {
            http.start();
            ws.start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the upstream WebSocket client", e);
        }
        LOG.debug("upstream WebSocket client started");
        return ws;
    }

    /**
     * How a failed upstream handshake is answered to the browser: the upstream's own HTTP status when
     * it refused the upgrade with one ({@code failure} null), else the {@link Failure} of the cause.
     */
    record Refusal(int status, Failure failure, String detail) {
    }

    /**
     * Maps a handshake failure to the browser's answer: the upstream's own HTTP status when it
     * answered one (4xx/5xx); 502 when it answered something else than a handshake; otherwise what
     * {@link Failure#of} makes of the cause (504 when it did not answer in time, 502 when unreachable).
     */
    static Refusal classify(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            int status = statusOf(t);
            if (status >= 400 && status <= 599) {
                return new Refusal(status, null, "HTTP " + status);
            }
            if (status > 0) {
                return new Refusal(Failure.UPSTREAM_UNREACHABLE.status(), Failure.UPSTREAM_UNREACHABLE,
                        "HTTP " + status + " instead of a WebSocket handshake");
            }
        }
        Failure kind = Failure.of(failure);
        return new Refusal(kind.status(), kind, LogSafe.safe(failure));
    }

    private static int statusOf(Throwable t) {
        if (t instanceof org.eclipse.jetty.websocket.api.exceptions.UpgradeException u) {
            return u.getResponseStatusCode();
        }
        if (t instanceof org.eclipse.jetty.websocket.core.exception.UpgradeException u) {
            return u.getResponseStatusCode();
        }
        return -1;
    }
}

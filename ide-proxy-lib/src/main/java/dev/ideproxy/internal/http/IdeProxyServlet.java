package dev.ideproxy.internal.http;

import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.internal.telemetry.Telemetry;
import dev.ideproxy.internal.telemetry.Telemetry.Direction;
import dev.ideproxy.internal.telemetry.Telemetry.Outcome;
import dev.ideproxy.internal.tunnel.HeaderPolicy;
import dev.ideproxy.internal.tunnel.IdeTunnelFilter;
import dev.ideproxy.internal.tunnel.TunnelRequest;
import dev.ideproxy.internal.web.BrowserHost;
import dev.ideproxy.internal.web.DrainState;
import dev.ideproxy.internal.web.Failure;
import dev.ideproxy.internal.web.Responses;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.time.Duration;
import java.util.Set;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.InputStreamRequestContent;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Response;
import org.eclipse.jetty.ee10.proxy.ProxyServlet;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.io.ByteBufferPool;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jetty's {@link ProxyServlet} bound to ide-proxy: it forwards only requests the tunnel filter has
 * authenticated and resolved, to exactly the {@link TunnelRequest}'s target, with the browser's Host
 * and (when sent) Origin, headers filtered by the {@link HeaderPolicy}, and streams bodies both ways
 * without buffering them. A request that did not pass the filter is refused: there is no default
 * target.
 *
 * <p>Each exchange is counted once, when it completes ({@link Telemetry#tunnelRequest}: proxied,
 * upstream error or client error), and body bytes as each chunk crosses; nothing is buffered to count.
 */
public class IdeProxyServlet extends ProxyServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(IdeProxyServlet.class);
    /** Attribute where Jetty publishes its server thread pool; absent on other containers. */
    private static final String JETTY_EXECUTOR = "org.eclipse.jetty.server.Executor";

    /** Size of the client's reads of upstream responses, hence of the chunks relayed to the browser. */
    static final int RESPONSE_BUFFER = 64 * 1024;
    /** Size of the reads of a request body that is streamed upstream. */
    static final int REQUEST_BODY_CHUNK = 64 * 1024;
    /** Seconds after which the page answering an unreachable workspace reloads itself ({@code Retry-After}). */
    static final int RETRY_SECONDS = 5;
    /** Request attribute holding the exchange's {@link DrainState.Exchange}. */
    private static final String EXCHANGE = IdeProxyServlet.class.getName() + ".exchange";
    /** Request attribute set when the browser's side of an exchange failed (it went away, or sent a broken body). */
    private static final String CLIENT_FAILED = IdeProxyServlet.class.getName() + ".clientFailed";
    /** Request attribute set once an exchange was sent a second time (see {@link #sentAgain}). */
    private static final String SENT_AGAIN = IdeProxyServlet.class.getName() + ".sentAgain";
    /** Methods that are safe to send twice (RFC 9110 §9.2.2), when they carry no body. */
    private static final Set<String> REPEATABLE = Set.of("GET", "HEAD", "OPTIONS");

    private final transient HeaderPolicy headers;
    private final transient Duration connectTimeout;
    private final transient Telemetry telemetry;
    private final transient DrainState drain;
    private final transient Duration drainTimeout;

    /**
     * @param headers        what crosses in each direction (the WebSocket handshake uses the same policy)
     * @param connectTimeout time allowed to open a connection to an upstream
     * @param telemetry      where exchanges, upstream failures and body bytes are counted
     * @param drain          where exchanges in flight are registered, so that a drain can wait for them
     * @param drainTimeout   how long {@link #destroy()} lets exchanges in flight finish before it cuts them
     */
    public IdeProxyServlet(HeaderPolicy headers, Duration connectTimeout, Telemetry telemetry, DrainState drain,
                           Duration drainTimeout) {
        this.headers = headers;
        this.connectTimeout = connectTimeout;
        this.telemetry = telemetry;
        this.drain = drain;
        this.drainTimeout = drainTimeout;
    }

    /** The init parameters that configure Jetty's proxy machinery from ide-proxy's configuration. */
    public static Map<String, String> initParameters(IdeProxyConfig config, ServletContext context) {
        Map<String, String> params = new HashMap<>();
        params.put("preserveHost", "true");
        // No total-request timeout: downloads, long polls and event streams may last as long as they flow.
        params.put("timeout", "0");
        params.put("idleTimeout", Long.toString(config.upstreamIdleTimeout().toMillis()));
        params.put("maxConnections", Integer.toString(config.upstreamMaxConnections()));
        // Read upstream responses 64 KiB at a time (Jetty's default is 16 KiB): each read is relayed
        // as one blocking write and flush to the browser. Pooled, held only while reading.
        params.put("responseBufferSize", Integer.toString(RESPONSE_BUFFER));
        if (context.getAttribute(JETTY_EXECUTOR) == null) {
            // Not on Jetty: the HTTP client needs a pool of its own.
            params.put("maxThreads", Integer.toString(config.proxyMaxThreads()));
        }
        return params;
    }

    @Override
    protected org.slf4j.Logger createLogger() {
        // Jetty's own (debug) messages print upstream URLs: redact credential-like query parameters.
        return new RedactingLogger(LOG);
    }

    @Override
    protected HttpClient newHttpClient() {
        HttpClient client = super.newHttpClient();
        client.setConnectTimeout(connectTimeout.toMillis());
        // Response content arrives in heap buffers, which ProxyServlet hands to the servlet output
        // stream as they are; from direct buffers it allocates and fills a new byte[] per chunk.
        client.setUseInputDirectByteBuffers(false);
        return client;
    }

    @Override
    protected HttpClient createHttpClient() throws ServletException {
        if (getServletConfig().getInitParameter("maxThreads") == null
                && getServletContext().getAttribute(JETTY_EXECUTOR) == null) {
            throw new ServletException("ide-proxy-http: no executor; register it through IdeProxy.install()");
        }
        return super.createHttpClient();
    }

    /**
     * The browser's request body, streamed upstream as Jetty's own {@code ProxyInputStreamRequestContent}
     * does, but read {@value #REQUEST_BODY_CHUNK} bytes at a time from the client's buffer pool: Jetty reads
     * 4 KiB at a time, and each read is a blocking read plus an upstream write, which capped uploads.
     */
    @Override
    protected Request.Content proxyRequestContent(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
                                                  Request proxyRequest) throws IOException {
        TunnelRequest tunnel = TunnelRequest.of(clientRequest);
        return new RequestBody(clientRequest, new ByteBufferPool.Sized(getHttpClient().getByteBufferPool(), false,
                REQUEST_BODY_CHUNK), telemetry, tunnel == null ? null : tunnel.workspaceId());
    }

    @Override
    protected String rewriteTarget(HttpServletRequest clientRequest) {
        TunnelRequest tunnel = TunnelRequest.of(clientRequest);
        return tunnel == null ? null : tunnel.httpUri();
    }

    @Override
    protected void onProxyRewriteFailed(HttpServletRequest clientRequest, HttpServletResponse proxyResponse) {
        // Only reachable if the servlet is mapped without the tunnel filter in front: refuse, never guess.
        LOG.error("request reached the HTTP proxy without passing the tunnel filter; refused");
        try {
            Responses.page(proxyResponse, Failure.FORBIDDEN, "This address is not served.");
        } catch (IOException e) {
            LOG.debug("could not send the refusal", e);
        }
    }

    @Override
    protected void copyRequestHeaders(HttpServletRequest clientRequest, Request proxyRequest) {
        proxyRequest.headers(h -> {
            h.clear();
            headers.forEachUpstreamHeader(clientRequest, Set.of(), h::add);
        });
    }

    @Override
    protected void addProxyHeaders(HttpServletRequest clientRequest, Request proxyRequest) {
        // X-Forwarded-* already set by the header policy; no Via or Forwarded.
    }

    @Override
    protected void sendProxyRequest(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
                                    Request proxyRequest) {
        // In flight until the browser's response completes; a drain that times out aborts the upstream side.
        DrainState.Exchange exchange = drain.exchangeStarted();
        clientRequest.setAttribute(EXCHANGE, exchange);
        // Ended where the exchange completes (success, failure) and, should a container skip those
        // (a connection closed under it), when the async cycle ends.
        clientRequest.getAsyncContext().addListener(new ExchangeEnd(exchange));
        send(clientRequest, proxyResponse, proxyRequest, exchange);
    }

    private void send(HttpServletRequest clientRequest, HttpServletResponse proxyResponse, Request proxyRequest,
                      DrainState.Exchange exchange) {
        exchange.cutWith(() -> proxyRequest.abort(new DrainTimeoutException()));
        // Not super: its debug log prints every header, cookies included.
        proxyRequest.send(newProxyResponseListener(clientRequest, proxyResponse));
    }

    /**
     * Sends a request once more when the upstream closed the connection before any of its answer
     * arrived: the race every client of a keep-alive server can lose when the server closes an idle
     * connection just as a request goes out on it (Node's servers close them after 5 s), which
     * browsers and nginx answer the same way. Only a bodyless GET, HEAD or OPTIONS, only once, and
     * not while draining; anything else is answered as a lost connection (502).
     */
    private boolean sentAgain(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
                              Response serverResponse, Throwable failure) {
        if (clientRequest.getAttribute(SENT_AGAIN) != null
                || clientRequest.getAttribute(CLIENT_FAILED) != null
                || !(clientRequest.getAttribute(EXCHANGE) instanceof DrainState.Exchange exchange)
                || Failure.of(failure) != Failure.CONNECTION_LOST
                || (serverResponse != null && serverResponse.getStatus() > 0)
                || proxyResponse.isCommitted()
                || !REPEATABLE.contains(clientRequest.getMethod())
                || hasContent(clientRequest)
                || drain.isDraining()) {
            return false;
        }
        TunnelRequest tunnel = TunnelRequest.of(clientRequest);
        clientRequest.setAttribute(SENT_AGAIN, Boolean.TRUE);
        LOG.info("{}: the workspace closed the connection before answering ({}); sent once more",
                tunnel.describe(), failure.toString());
        Request again = newProxyRequest(clientRequest, tunnel.httpUri());
        copyRequestHeaders(clientRequest, again);
        again.timeout(getTimeout(), java.util.concurrent.TimeUnit.MILLISECONDS);
        send(clientRequest, proxyResponse, again, exchange);
        return true;
    }

    /**
     * Drains before Jetty's machinery stops (the servlet container destroys servlets before it tells
     * the context listeners): exchanges in flight may finish within {@code shutdown.drain-timeout}.
     */
    @Override
    public void destroy() {
        drain.drain(drainTimeout);
        super.destroy();
    }

    @Override
    protected void onServerResponseHeaders(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
                                           Response serverResponse) {
        TunnelRequest tunnel = TunnelRequest.of(clientRequest);
        String requestHost = BrowserHost.of(clientRequest);
        Set<String> connectionNamed = HeaderPolicy.connectionNamed(serverResponse.getHeaders().getValuesList("Connection"));
        // When the filter renewed the session cookie, this response must not be cached (it set no-store).
        boolean renewed = clientRequest.getAttribute(IdeTunnelFilter.SESSION_RENEWED) != null;
        for (HttpField field : serverResponse.getHeaders()) {
            String name = field.getName();
            String lower = name.toLowerCase(Locale.ROOT);
            if (headers.dropsResponseHeader(lower, connectionNamed)
                    || (renewed && (lower.equals("cache-control") || lower.equals("expires")))) {
                continue;
            }
            String value = field.getValue();
            if (lower.equals("location")) {
                value = headers.rewriteLocation(tunnel, requestHost, value);
            } else if (lower.equals("set-cookie")) {
                value = headers.rewriteSetCookie(tunnel, value);
            } else if (lower.equals("service-worker-allowed")) {
                value = headers.rewriteServiceWorkerAllowed(tunnel, value);
            }
            if (value != null && !value.isBlank()) {
                proxyResponse.addHeader(name, value);
            }
        }
    }

    @Override
    protected void onResponseContent(HttpServletRequest request, HttpServletResponse response, Response proxyResponse,
                                     byte[] buffer, int offset, int length, Callback callback) {
        try {
            var output = response.getOutputStream();
            output.write(buffer, offset, length);
            // Flush each chunk as it arrives: event streams and long polls must not wait in a buffer.
            output.flush();
        } catch (Throwable x) {
            // The browser went away: the exchange fails, but not because of the upstream.
            request.setAttribute(CLIENT_FAILED, Boolean.TRUE);
            callback.failed(x);
            return;
        }
        if (telemetry.isEnabled()) {
            telemetry.httpData(TunnelRequest.of(request).workspaceId(), Direction.TO_BROWSER, length);
        }
        callback.succeeded();
    }

    @Override
    protected void onProxyResponseSuccess(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
                                          Response serverResponse) {
        // Before super, which completes the exchange: the request may be recycled after that.
        record(clientRequest, proxyResponse.getStatus(), Outcome.PROXIED);
        Object exchange = clientRequest.getAttribute(EXCHANGE);
        try {
            super.onProxyResponseSuccess(clientRequest, proxyResponse, serverResponse);
        } finally {
            end(exchange);
        }
    }

    @Override
    protected void onProxyResponseFailure(HttpServletRequest clientRequest, HttpServletResponse proxyResponse,
                                          Response serverResponse, Throwable failure) {
        if (sentAgain(clientRequest, proxyResponse, serverResponse, failure)) {
            return;
        }
        TunnelRequest tunnel = TunnelRequest.of(clientRequest);
        boolean drained = failure instanceof DrainTimeoutException;
        Failure kind = drained ? Failure.SERVICE_UNAVAILABLE : Failure.of(failure);
        boolean clientFailed = clientRequest.getAttribute(CLIENT_FAILED) != null;
        if (drained) {
            LOG.info("{}: cut by the drain ({})", tunnel.describe(), failure.getMessage());
        } else if (clientFailed) {
            LOG.info("{}: the browser's side failed: {}", tunnel.describe(), failure.toString());
        } else if (proxyResponse.isCommitted()) {
            LOG.info("{}: response cut after it started: {}", tunnel.describe(), failure.toString());
        } else {
            LOG.warn("{}: {} ({})", tunnel.describe(), kind.title(), failure.toString());
        }
        if (!clientFailed && !drained) {
            Telemetry.UpstreamFailure upstream = upstreamFailure(kind);
            if (upstream != null) {
                telemetry.upstreamFailure(tunnel.workspaceId(), Telemetry.Protocol.HTTP, upstream);
            }
        }
        record(clientRequest, proxyResponse.isCommitted() ? proxyResponse.getStatus() : kind.status(),
                clientFailed ? Outcome.CLIENT_ERROR : Outcome.UPSTREAM_ERROR);
        sendError(clientRequest, proxyResponse, kind, tunnel.workspaceId());
    }

    /** The kind of upstream failure {@code kind} counts as, or null for none. */
    static Telemetry.UpstreamFailure upstreamFailure(Failure kind) {
        return switch (kind) {
            case UPSTREAM_UNREACHABLE -> Telemetry.UpstreamFailure.REFUSED;
            case UPSTREAM_TIMEOUT -> Telemetry.UpstreamFailure.TIMEOUT;
            case CONNECTION_LOST -> Telemetry.UpstreamFailure.RESET;
            default -> null;
        };
    }

    /** Counts one completed exchange, timed from the tunnel filter's first look at it. */
    private void record(HttpServletRequest clientRequest, int status, Outcome outcome) {
        if (telemetry.isEnabled()) {
            long nanos = System.nanoTime() - IdeTunnelFilter.receivedNanos(clientRequest);
            telemetry.tunnelRequest(TunnelRequest.of(clientRequest).workspaceId(), clientRequest.getMethod(), status,
                    outcome, nanos);
        }
    }

    @Override
    protected void onClientRequestFailure(HttpServletRequest clientRequest, Request proxyRequest,
                                          HttpServletResponse proxyResponse, Throwable failure) {
        // The browser went away or sent a broken body: stop the upstream exchange.
        clientRequest.setAttribute(CLIENT_FAILED, Boolean.TRUE);
        proxyRequest.abort(failure).thenAccept(aborted -> {
            if (!aborted) {
                sendError(clientRequest, proxyResponse, Failure.BAD_REQUEST, TunnelRequest.of(clientRequest).workspaceId());
            }
        });
    }

    /** The one place an exchange that failed is answered (Jetty's {@code sendProxyResponseError}). */
    private void sendError(HttpServletRequest clientRequest, HttpServletResponse proxyResponse, Failure kind,
                           String workspaceId) {
        Object exchange = clientRequest.getAttribute(EXCHANGE);
        try {
            if (!proxyResponse.isCommitted()) {
                if (!BrowserHost.isHttp2(clientRequest)) {
                    // HTTP/2 forbids the header (Tomcat would send it; curl and Jetty's client then reject the
                    // response): the stream ends with the response, the connection goes on.
                    proxyResponse.setHeader("Connection", "close");
                }
                if (kind.isTemporary()) {
                    // The IDE restarting, or this node draining: the tab comes back by itself.
                    Responses.retryLater(clientRequest, proxyResponse, kind, kind.upstreamMessage(workspaceId),
                            RETRY_SECONDS);
                } else {
                    Responses.page(proxyResponse, kind, kind.upstreamMessage(workspaceId));
                }
            } else {
                // Too late for a status: cut the response so the browser sees it incomplete.
                proxyResponse.sendError(-1);
            }
        } catch (Exception e) {
            LOG.debug("could not send the error response", e);
        } finally {
            try {
                if (clientRequest.isAsyncStarted()) {
                    clientRequest.getAsyncContext().complete();
                }
            } finally {
                end(exchange);
            }
        }
    }

    /** Ends the exchange {@link #sendProxyRequest} registered (the request attribute), if it got that far. */
    private static void end(Object exchange) {
        if (exchange instanceof DrainState.Exchange e) {
            e.end();
        }
    }

    /** Ends an exchange's time in flight when its response completes, whichever way. */
    private record ExchangeEnd(DrainState.Exchange exchange) implements AsyncListener {
        @Override
        public void onComplete(AsyncEvent event) {
            exchange.end();
        }

        @Override
        public void onTimeout(AsyncEvent event) {
            exchange.end();
        }

        @Override
        public void onError(AsyncEvent event) {
            exchange.end();
        }

        @Override
        public void onStartAsync(AsyncEvent event) {
            // not restarted
        }
    }

    /** Why an exchange still in flight at the end of a drain was cut. */
    static final class DrainTimeoutException extends java.io.IOException {
        private static final long serialVersionUID = 1L;

        DrainTimeoutException() {
            super("ide-proxy is stopping: the exchange outlived shutdown.drain-timeout", null);
        }
    }

    /**
     * A request body read from the servlet input stream in pooled chunks, each counted as it is read;
     * a failed read fails the upstream request.
     */
    private static final class RequestBody extends InputStreamRequestContent {
        private final long length;
        private final Telemetry telemetry;
        private final String workspaceId;

        RequestBody(HttpServletRequest clientRequest, ByteBufferPool.Sized buffers, Telemetry telemetry,
                    String workspaceId) throws IOException {
            super(clientRequest.getContentType(), clientRequest.getInputStream(), buffers);
            this.length = clientRequest.getContentLengthLong();
            this.telemetry = telemetry;
            this.workspaceId = workspaceId;
        }

        @Override
        public long getLength() {
            return length;
        }

        @Override
        public Content.Chunk read() {
            Content.Chunk chunk = super.read();
            if (Content.Chunk.isFailure(chunk) && !chunk.isLast()) {
                fail(chunk.getFailure());
            } else if (chunk != null && chunk.hasRemaining()) {
                telemetry.httpData(workspaceId, Direction.TO_UPSTREAM, chunk.remaining());
            }
            return chunk;
        }
    }
}

package dev.ideproxy.internal.wire;

import jakarta.servlet.ServletRequest;
import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Invocable.InvocationType;

/**
 * The browser's side of a passthrough relay on Jetty 12.1 (ee10 and ee11): the connection's {@link EndPoint},
 * taken over with Jetty's core upgrade, as Jetty's own WebSocket handshaker does. The servlet answers
 * 101 and sets {@link HttpStream#UPGRADE_CONNECTION_ATTRIBUTE} to this connection ({@link #upgrade});
 * once the 101 is written, Jetty's HTTP/1.1 connection hands the endpoint over ({@link #onUpgradeTo},
 * then {@link #onOpen}). From then on bytes are read and written with the endpoint's non-blocking IO.
 *
 * <p>Why not the Servlet API's {@code HttpServletRequest.upgrade}: on Jetty 12.1 ee10 its upgraded input
 * ends after 640 bytes (verified-facts, "Servlet HTTP upgrade").
 *
 * <p>The callbacks declare that they do not block, so Jetty runs them on its selector thread: a read
 * completes there and the relay's write towards the upstream ({@link ChannelWire}) is made from it,
 * without a hand-off to the thread pool. Nothing the relay does in a completion blocks.
 *
 * <p>Loaded only where Jetty's server classes are the web application's own ({@link BrowserWires}):
 * embedded Jetty, and {@code java -jar}. Thread-safe for one reader and one writer at a time, as
 * {@link Wire} requires.
 */
public final class JettyWire extends AbstractConnection implements Connection.UpgradeTo, BrowserWire {
    private final Callback fillable = Callback.from(InvocationType.NON_BLOCKING, this::onFillable, this::failRead);
    /** The outstanding read's completion; taken (set to null) by whoever completes it. */
    private final AtomicReference<Completion<Integer>> reading = new AtomicReference<>();
    private volatile ByteBuffer readInto;
    /** Bytes the browser sent right after its handshake, read by Jetty before the hand-over. */
    private volatile ByteBuffer early;
    private volatile Throwable failure;
    /** Released once handed over, or closed before that. */
    private final HandOver handOver = new HandOver();
    /** How the wire failed, if it did: operations then fail at once (made once, not per operation). */
    private final Supplier<Throwable> failed = () -> failure;
    private volatile boolean open;

    private JettyWire(EndPoint endPoint, Executor executor) {
        super(endPoint, executor);
    }

    /**
     * Per class of servlet request (ee10's or ee11's): its environment's static
     * {@code ServletContextRequest.getServletContextRequest(ServletRequest)}, which finds the core
     * {@link Request} behind it; null when there is none. Found in the request's own class loader, so
     * ide-proxy links to neither environment and serves both (Spring Boot 4's Jetty is ee11).
     */
    private static final ClassValue<MethodHandle> CORE_REQUEST = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> requestClass) {
            String name = requestClass.getName();
            String environment = name.substring(0, name.lastIndexOf('.') + 1);
            try {
                Class<?> contextRequest = Class.forName(environment + "ServletContextRequest", false,
                        requestClass.getClassLoader());
                return MethodHandles.publicLookup().findStatic(contextRequest, "getServletContextRequest",
                        MethodType.methodType(contextRequest, ServletRequest.class));
            } catch (ReflectiveOperationException | LinkageError e) {
                return null;
            }
        }
    };

    /** The core request behind {@code request} (unwrapped, of a Jetty servlet environment), or null. */
    private static Request coreRequest(ServletRequest request) {
        MethodHandle find = CORE_REQUEST.get(request.getClass());
        if (find == null) {
            return null;
        }
        try {
            return (Request) find.invoke(request);
        } catch (Throwable e) {
            return null;
        }
    }

    /**
     * True when {@code request} (unwrapped) reaches a core request whose connection can be taken
     * over: one over HTTP/1.1 (WebSockets over HTTP/2 have no connection of their own). Call only
     * where {@link BrowserWires} found Jetty's classes shared with the server.
     */
    static boolean canUpgrade(ServletRequest request) {
        Request jetty = coreRequest(request);
        return jetty != null && jetty.getConnectionMetaData().getHttpVersion() == HttpVersion.HTTP_1_1;
    }

    /**
     * Arranges for Jetty to hand {@code request}'s connection to the returned wire once the response,
     * which the caller makes a 101 and then leaves alone, has been written.
     */
    static JettyWire upgrade(ServletRequest request) {
        ServletRequest unwrapped = request;
        while (unwrapped instanceof jakarta.servlet.ServletRequestWrapper w) {
            unwrapped = w.getRequest();
        }
        ConnectionMetaData metaData = coreRequest(unwrapped).getConnectionMetaData();
        JettyWire wire = new JettyWire(metaData.getConnection().getEndPoint(), metaData.getConnector().getExecutor());
        request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, wire);
        return wire;
    }

    @Override
    public void onUpgradeTo(ByteBuffer prefilled) {
        // Jetty refuses the upgrade unless the connection takes what it already read; the buffer is its own.
        if (prefilled != null && prefilled.hasRemaining()) {
            ByteBuffer copy = ByteBuffer.allocate(prefilled.remaining());
            copy.put(prefilled).flip();
            early = copy;
        }
    }

    @Override
    public void onOpen() {
        super.onOpen();
        // No timeout of Jetty's: the relay's keep-alive decides when a side is idle.
        getEndPoint().setIdleTimeout(0);
        open = true;
        handOver.release();
    }

    @Override
    public boolean handedOver() {
        return open;
    }

    @Override
    public void read(ByteBuffer buffer, Completion<Integer> done) {
        handOver.submit(done, failed, () -> {
            ByteBuffer first = early;
            if (first != null) {
                int n = Math.min(first.remaining(), buffer.remaining());
                buffer.put(buffer.position(), first, first.position(), n);
                buffer.position(buffer.position() + n);
                first.position(first.position() + n);
                if (!first.hasRemaining()) {
                    early = null;
                }
                done.completed(n);
                return;
            }
            readInto = buffer;
            reading.set(done);
            fill();
        });
    }

    /** Fills the outstanding read from the endpoint, or waits (on the selector) until it can. */
    private void fill() {
        ByteBuffer into = readInto;
        int n;
        try {
            // Jetty fills after a buffer's limit (its "flush mode"): an empty view of the free space.
            ByteBuffer view = into.slice();
            view.limit(0);
            n = getEndPoint().fill(view);
        } catch (IOException | RuntimeException e) {
            failRead(e);
            return;
        }
        if (n == 0) {
            getEndPoint().fillInterested(fillable);
            return;
        }
        if (n > 0) {
            into.position(into.position() + n);
        }
        Completion<Integer> done = reading.getAndSet(null);
        if (done != null) {
            done.completed(n);
        }
    }

    @Override
    public void onFillable() {
        fill();
    }

    private void failRead(Throwable cause) {
        Completion<Integer> done = reading.getAndSet(null);
        if (done != null) {
            done.failed(cause);
        }
    }

    @Override
    public void write(ByteBuffer[] buffers, Completion<Void> done) {
        handOver.submit(done, failed, () -> getEndPoint().write(
                Callback.from(InvocationType.NON_BLOCKING, () -> done.completed(null), done::failed), buffers));
    }

    @Override
    public boolean onIdleExpired(TimeoutException timeout) {
        return false; // see onOpen
    }

    @Override
    public void onClose(Throwable cause) {
        super.onClose(cause);
        if (failure == null) {
            failure = cause != null ? cause : new IOException("the browser connection was closed");
        }
        failRead(failure);
    }

    /** Closes the browser's connection, handed over or not yet; operations waiting for the hand-over then fail. */
    @Override
    public void close() {
        if (failure == null) {
            failure = new IOException("closed");
        }
        getEndPoint().close();
        handOver.release();
        failRead(failure);
    }

    @Override
    public String label() {
        return "browser";
    }
}

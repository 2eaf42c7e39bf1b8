package dev.ideproxy.internal.wire;

import jakarta.servlet.http.WebConnection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CompletionHandler;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.coyote.http11.upgrade.InternalHttpUpgradeHandler;
import org.apache.tomcat.util.net.AbstractEndpoint.Handler.SocketState;
import org.apache.tomcat.util.net.SSLSupport;
import org.apache.tomcat.util.net.SocketEvent;
import org.apache.tomcat.util.net.SocketWrapperBase;
import org.apache.tomcat.util.net.SocketWrapperBase.BlockingMode;
import org.apache.tomcat.util.net.SocketWrapperBase.CompletionHandlerCall;

/**
 * The browser's side of a passthrough relay on Tomcat: the connection Tomcat hands over after
 * {@code HttpServletRequest.upgrade(TomcatWire.class)}, read and written with the asynchronous IO
 * of Tomcat's own socket wrapper, as Tomcat's WebSocket and HTTP/2 implementations do.
 *
 * <p>Why not the Servlet API's non-blocking upgrade streams: after every read event Tomcat
 * registers read interest again and, on the next event, fills its read buffer from the socket on a
 * container thread before calling {@code onDataAvailable}. A relay that reads when the upstream has
 * taken the previous bytes (on another thread) then reads that buffer concurrently with the
 * container: the spike saw corrupted frames and {@code BufferOverflowException}s. Tomcat's
 * asynchronous operations have one owner per direction and call back when done.
 *
 * <p>Loaded only on Tomcat ({@code org.apache.coyote} is visible to web applications there); the
 * library compiles against Tomcat with {@code provided} scope. Tomcat creates the instance (public,
 * no-argument constructor), gives it the socket wrapper, then calls {@link #init}. Operations asked
 * for before that wait for it. Thread-safe for one reader and one writer at a time, as {@link Wire} requires.
 */
public final class TomcatWire implements InternalHttpUpgradeHandler, BrowserWire {
    /** {@code RequestFacade.request}: the only way from the Servlet API to Tomcat's connector. */
    private static final java.lang.reflect.Field FACADE_REQUEST = facadeRequest();

    private static java.lang.reflect.Field facadeRequest() {
        try {
            java.lang.reflect.Field field = org.apache.catalina.connector.RequestFacade.class.getDeclaredField("request");
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    /**
     * False when {@code request} (unwrapped, Tomcat's) came through a connector with
     * {@code useAsyncIO="false"}: there the socket's asynchronous reads and writes, which this wire is
     * made of, never complete (a relay hangs with no byte crossing), so its sessions must be relayed as
     * messages. True when the connector cannot be seen (Tomcat's default, async IO on).
     */
    static boolean canUpgrade(jakarta.servlet.ServletRequest request) {
        if (FACADE_REQUEST == null || !(request instanceof org.apache.catalina.connector.RequestFacade)) {
            return true;
        }
        try {
            org.apache.catalina.connector.Request tomcat = (org.apache.catalina.connector.Request) FACADE_REQUEST.get(request);
            Object asyncIo = tomcat == null || tomcat.getConnector() == null ? null
                    : tomcat.getConnector().getProperty("useAsyncIO");
            return asyncIo == null || !"false".equalsIgnoreCase(asyncIo.toString());
        } catch (ReflectiveOperationException | RuntimeException e) {
            return true;
        }
    }

    /** Hands a read to its completion as soon as it brought bytes (or the end of the stream). */
    private static final SocketWrapperBase.CompletionCheck ANY_DATA = (state, buffers, offset, length) ->
            CompletionHandlerCall.DONE;

    private volatile SocketWrapperBase<?> socket;
    private volatile Throwable failure;
    private final HandOver handOver = new HandOver();
    /** How the wire failed, if it did: operations then fail at once (made once, not per operation). */
    private final Supplier<Throwable> failed = () -> failure;

    public TomcatWire() {
    }

    @Override
    public boolean handedOver() {
        return handOver.released();
    }

    @Override
    public void setSocketWrapper(SocketWrapperBase<?> wrapper) {
        this.socket = wrapper;
    }

    @Override
    public void init(WebConnection connection) {
        handOver.release();
    }

    @Override
    public void read(ByteBuffer buffer, Completion<Integer> done) {
        handOver.submit(done, failed, () -> socket.read(BlockingMode.NON_BLOCK, -1, TimeUnit.MILLISECONDS, done,
                ANY_DATA, READ, buffer));
    }

    @Override
    public void write(ByteBuffer[] buffers, Completion<Void> done) {
        handOver.submit(done, failed, () -> socket.write(BlockingMode.NON_BLOCK, -1, TimeUnit.MILLISECONDS,
                done, SocketWrapperBase.COMPLETE_WRITE_WITH_COMPLETION, WRITE, buffers));
    }

    private static final CompletionHandler<Long, Completion<Integer>> READ = new CompletionHandler<>() {
        @Override
        public void completed(Long count, Completion<Integer> done) {
            done.completed(count.intValue());
        }

        @Override
        public void failed(Throwable cause, Completion<Integer> done) {
            done.failed(cause);
        }
    };

    private static final CompletionHandler<Long, Completion<Void>> WRITE = new CompletionHandler<>() {
        @Override
        public void completed(Long count, Completion<Void> done) {
            done.completed(null);
        }

        @Override
        public void failed(Throwable cause, Completion<Void> done) {
            done.failed(cause);
        }
    };

    @Override
    public SocketState upgradeDispatch(SocketEvent status) {
        return switch (status) {
            case STOP, DISCONNECT, ERROR -> {
                failure = new IOException("the browser connection ended (" + status + ")");
                yield SocketState.CLOSED;
            }
            default -> SocketState.UPGRADED;
        };
    }

    /** Reads and writes are asynchronous: Tomcat must not poll for reads on this connection's behalf. */
    @Override
    public boolean hasAsyncIO() {
        return true;
    }

    @Override
    public void timeoutAsync(long now) {
        // No timeouts of Tomcat's: the relay's keep-alive decides when a side is idle.
    }

    @Override
    public void setSslSupport(SSLSupport sslSupport) {
        // Not needed: the bytes are relayed as they are.
    }

    @Override
    public void pause() {
        // The drain closes relays itself.
    }

    @Override
    public void destroy() {
        if (failure == null) {
            failure = new IOException("the browser connection was closed");
        }
    }

    @Override
    public void close() {
        if (failure == null) {
            failure = new IOException("closed");
        }
        handOver.run(() -> {
            SocketWrapperBase<?> s = socket;
            if (s != null) {
                s.close();
            }
        });
    }

    @Override
    public String label() {
        return "browser";
    }
}

package dev.ideproxy.internal.websocket;

import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.internal.telemetry.Telemetry;
import dev.ideproxy.internal.telemetry.Telemetry.Direction;
import dev.ideproxy.internal.tunnel.TunnelRequest;
import dev.ideproxy.internal.web.Failure;
import dev.ideproxy.internal.web.LogSafe;
import dev.ideproxy.internal.websocket.Relay.Side;
import dev.ideproxy.internal.wire.FrameScanner;
import dev.ideproxy.internal.wire.FrameScanner.Decision;
import dev.ideproxy.internal.wire.Frames;
import dev.ideproxy.internal.wire.Wire;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.util.thread.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied WebSocket in passthrough mode: the browser's upgraded connection and the upstream
 * socket opened for it, with the bytes of every frame copied between them unchanged (no unmasking,
 * no re-masking, no second WebSocket stack, compression negotiated end to end).
 *
 * <p><b>Frames.</b> A {@link FrameScanner} per direction finds the frame boundaries. The relay counts
 * each message against the limit (1009 for both sides when exceeded), inserts its own frames
 * (keep-alive pings, close frames) only between frames, swallows the pongs that answer its pings,
 * and sees every close frame.
 *
 * <p><b>Flow control.</b> One read buffer per direction; the next read of a side starts only once
 * what the previous one brought was written to the other side. A slow reader therefore stalls its
 * sender through TCP, and the proxy holds at most one buffer per direction.
 *
 * <p><b>Closing.</b> A close frame from one side is passed to the other, and its answer back; once a
 * close went each way, both connections are closed. When the proxy ends a relay itself (revocation
 * and session expiry: 1008 to the browser; a drain: 1012; shutdown, idle timeout: 1001; a message
 * over the limit: 1009) it writes its own close frame to each side, at the next frame boundary, and
 * relays nothing more. A connection that ends without a close frame gets the other side a 1011
 * ({@link CloseCodes#forward}). Whatever has not finished its close handshake
 * {@value Relay#CLOSE_GRACE_MILLIS} ms after the relay began closing is disconnected.
 *
 * <p>Telemetry and activity as for {@link Relay}: payload bytes per data frame, messages at their
 * last frame, opened and closed (with the browser's close code), upstream failures.
 *
 * <p>Thread-safe: each direction is driven by one read at a time; writes to a side are serialised by
 * its {@link Out}; the closing state is guarded by {@code this}.
 */
final class ByteRelay implements LiveRelay, KeepAlive.Listener {
    private static final Logger LOG = LoggerFactory.getLogger(ByteRelay.class);
    /**
     * Bytes read from one side at a time: a small buffer while the traffic is interactive (an idle
     * session holds two of these), a large one once a read filled the small one (bulk transfers),
     * back to small after a read that brought little.
     */
    static final int SMALL_READ = 4 * 1024;
    static final int LARGE_READ = 64 * 1024;
    /** The large buffers, shared by every passthrough relay (2 MiB of idle ones kept at most). */
    static final BulkBuffers LARGE_BUFFERS = new BulkBuffers(LARGE_READ, 32);

    private final TunnelRequest tunnel;
    private final RelaySettings settings;
    private final LiveRelays registry;
    private final UpstreamConnector timers;
    private final KeepAlive keepAlive;
    private final Telemetry telemetry;
    private final ActivityTracker.Entry activity;

    private Wire browser;
    private Wire upstream;
    private Out toBrowser;
    private Out toUpstream;

    // Guarded by this.
    private boolean started;
    private boolean closing;
    private boolean opened;
    private int owedBrowserCode;
    private int owedUpstreamCode;
    private String owedReason;
    private Scheduler.Task expiry;
    /** Per side (ordinal): a close frame was written to it; one came from it (or it ended); its connection is closed. */
    private final boolean[] closeWritten = new boolean[2];
    private final boolean[] closeRead = new boolean[2];
    private final boolean[] disconnected = new boolean[2];
    /** Per side: a close frame from it was passed to the other side. */
    private final boolean[] passedClose = new boolean[2];

    ByteRelay(TunnelRequest tunnel, RelaySettings settings, LiveRelays registry, UpstreamConnector timers,
              Telemetry telemetry, ActivityTracker.Entry activity) {
        this.tunnel = tunnel;
        this.settings = settings;
        this.registry = registry;
        this.timers = timers;
        this.telemetry = telemetry;
        this.activity = activity;
        this.keepAlive = new KeepAlive(settings, timers, this);
    }

    @Override
    public TunnelRequest tunnel() {
        return tunnel;
    }

    @Override
    public ActivityTracker.Entry activity() {
        return activity;
    }

    @Override
    public String describe() {
        return tunnel.describe();
    }

    @Override
    public synchronized boolean isClosing() {
        return closing;
    }

    // ------------------------------------------------------------------ opening

    /**
     * Starts relaying: the browser's connection (which may not be handed over by the container yet),
     * the upstream's, and what the upstream sent right after its handshake.
     */
    void start(Wire browserWire, Wire upstreamWire, ByteBuffer upstreamLeftover) {
        boolean end;
        synchronized (this) {
            browser = browserWire;
            upstream = upstreamWire;
            toBrowser = new Out(Side.CLIENT, browserWire);
            toUpstream = new Out(Side.UPSTREAM, upstreamWire);
            started = true;
            timers.passthroughOpened();
            end = closing;
            if (!closing) {
                opened = true;
                keepAlive.touch(Side.CLIENT);
                keepAlive.touch(Side.UPSTREAM);
                keepAlive.start();
                telemetry.relayOpened(tunnel.workspaceId());
            }
        }
        if (end) {
            // Ended while the handshakes were under way: owe both sides their close.
            sendCloses();
            return;
        }
        LOG.debug("{}: relaying bytes", describe());
        try {
            new Pump(Side.UPSTREAM, upstreamWire, toBrowser, new FrameScanner(false)).start(upstreamLeftover);
            new Pump(Side.CLIENT, browserWire, toUpstream, new FrameScanner(true)).start(null);
        } catch (Throwable t) {
            failedInternally(t);
        }
    }

    /** The browser's connection must be handed over in time, else the relay is given up. */
    void expectBrowserWithin(long millis, java.util.function.BooleanSupplier handedOver) {
        timers.scheduler().schedule(() -> {
            if (!handedOver.getAsBoolean() && !isClosing()) {
                timers.executor().execute(() -> abandon("the browser did not complete its handshake"));
            }
        }, millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void expireAfter(Duration left) {
        Scheduler.Task task = timers.scheduler().schedule(() -> timers.executor().execute(() -> {
            if (end(CloseCodes.POLICY, CloseCodes.GOING_AWAY, "session expired")) {
                LOG.info("{}: closed at the end of the session's maximum lifetime", describe());
            }
        }), Math.max(0, left.toMillis()), TimeUnit.MILLISECONDS);
        synchronized (this) {
            if (!closing) {
                expiry = task;
                return;
            }
        }
        task.cancel();
    }

    // ------------------------------------------------------------------ endings the proxy decides

    @Override
    public boolean revoke() {
        if (!end(CloseCodes.POLICY, CloseCodes.GOING_AWAY, "session revoked")) {
            return false;
        }
        LOG.info("{}: closed: its session was revoked", describe());
        return true;
    }

    @Override
    public void restart() {
        end(CloseCodes.SERVICE_RESTART, CloseCodes.GOING_AWAY, "ide-proxy is restarting");
    }

    @Override
    public void shutdown() {
        end(CloseCodes.GOING_AWAY, CloseCodes.GOING_AWAY, "ide-proxy is shutting down");
    }

    @Override
    public void abandon(String why) {
        if (end(CloseCodes.GOING_AWAY, CloseCodes.GOING_AWAY, why)) {
            LOG.debug("{}: {}", describe(), why);
        }
    }

    @Override
    public void quiet(Side side) {
        Out out = side == Side.CLIENT ? toBrowser : toUpstream;
        if (out != null) {
            out.control(Frames.ping(KeepAlive.PAYLOAD, side == Side.UPSTREAM), false);
        }
    }

    @Override
    public void silent(Side side) {
        if (end(CloseCodes.GOING_AWAY, CloseCodes.GOING_AWAY, "idle timeout")) {
            LOG.info("{}: closed after {} of silence from the {}", describe(), settings.idleTimeout(), side.label());
        }
    }

    /**
     * Ends the relay, once: counts it closed, leaves the registry, stops the timers, and writes each
     * side its close frame (now, or when the relay starts).
     */
    private boolean end(int browserCode, int upstreamCode, String reason) {
        return end(browserCode, upstreamCode, reason, browserCode, true);
    }

    private boolean end(int browserCode, int upstreamCode, String reason, int countedCode, boolean sendCloses) {
        Scheduler.Task e;
        boolean wasOpen;
        boolean running;
        synchronized (this) {
            if (closing) {
                return false;
            }
            closing = true;
            owedBrowserCode = browserCode;
            owedUpstreamCode = upstreamCode;
            owedReason = CloseCodes.truncate(reason);
            e = expiry;
            expiry = null;
            wasOpen = opened;
            running = started;
        }
        if (wasOpen) {
            telemetry.relayClosed(tunnel.workspaceId(), countedCode);
        }
        keepAlive.stop();
        if (e != null) {
            e.cancel();
        }
        registry.remove(this);
        if (running) {
            if (sendCloses) {
                sendCloses();
            }
            timers.scheduler().schedule(this::disconnectAll, Relay.CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
        }
        return true;
    }

    /** Writes the owed close frames to the sides that have not been sent one. */
    private void sendCloses() {
        int browserCode;
        int upstreamCode;
        String reason;
        synchronized (this) {
            browserCode = owedBrowserCode;
            upstreamCode = owedUpstreamCode;
            reason = owedReason;
        }
        if (!closeGone(Side.CLIENT)) {
            toBrowser.control(Frames.close(browserCode, reason, false), true);
        }
        if (!closeGone(Side.UPSTREAM)) {
            toUpstream.control(Frames.close(upstreamCode, reason, true), true);
        }
    }

    // ------------------------------------------------------------------ endings the sides decide

    /**
     * A close frame came from {@code side}. The first close of a relay not yet closing is passed on
     * (the relay is closing from here on, and relays no more data); the answer to a close that was
     * passed on is passed back; the answer to the relay's own close frame stays here.
     *
     * @return true when {@code raw} is to be passed on
     */
    private boolean closeFrom(Side side, ByteBuffer payload) {
        int code = Frames.closeCode(payload);
        boolean first;
        boolean answer;
        synchronized (this) {
            closeRead[side.ordinal()] = true;
            first = !closing;
            answer = !first && passedClose[other(side).ordinal()] && !passedClose[side.ordinal()];
            if (first || answer) {
                passedClose[side.ordinal()] = true;
            }
        }
        if (first) {
            end(0, 0, "", side == Side.CLIENT ? code : CloseCodes.forward(code), false);
            LOG.debug("{}: the {} closed with {}", describe(), side.label(), code);
        }
        closedIfDone(side);
        return first || answer;
    }

    /**
     * What a step of the relay threw (a bug, or an {@code Error} such as a {@code StackOverflowError}) on
     * a wire's, a timer's or the container's thread: this relay ends, counted with 1011, and both
     * connections are dropped at once (no close frames: writing them could meet the same fault); the
     * thread goes on with its other work. Every entry point from another component ends here, never
     * in the thread that called it.
     */
    private void failedInternally(Throwable t) {
        try {
            if (end(CloseCodes.UNEXPECTED, CloseCodes.UNEXPECTED, "internal error", CloseCodes.UNEXPECTED, false)) {
                LOG.error("{}: the relay failed and was closed (a fault in ide-proxy)", describe(), t);
            }
        } finally {
            disconnectAll();
        }
    }

    /** True when {@code side} needs no close frame from the relay: one went to it already, or it is gone. */
    private synchronized boolean closeGone(Side side) {
        return closeWritten[side.ordinal()] || passedClose[other(side).ordinal()] || disconnected[side.ordinal()];
    }

    /** {@code side}'s connection ended, or failed, without a close frame. */
    private void lost(Side side, Throwable cause) {
        synchronized (this) {
            closeRead[side.ordinal()] = true;
            closeWritten[side.ordinal()] = true; // nothing more can reach it
        }
        disconnect(side);
        int forwarded = CloseCodes.forward(CloseCodes.ABNORMAL);
        String reason = CloseCodes.forwardReason(CloseCodes.ABNORMAL, "", side.label() + " connection lost");
        if (end(side == Side.CLIENT ? CloseCodes.ABNORMAL : forwarded, forwarded, reason,
                side == Side.CLIENT ? CloseCodes.ABNORMAL : forwarded, true)) {
            if (side == Side.UPSTREAM) {
                telemetry.upstreamFailure(tunnel.workspaceId(), Telemetry.Protocol.WEBSOCKET,
                        cause == null ? Telemetry.UpstreamFailure.RESET : upstreamFailureOf(cause));
            }
            if (cause == null) {
                LOG.info("{}: the {} connection ended without a close frame", describe(), side.label());
            } else {
                LOG.info("{}: the {} connection failed: {}", describe(), side.label(), LogSafe.safe(cause));
            }
        }
        closedIfDone(other(side));
    }

    private static Telemetry.UpstreamFailure upstreamFailureOf(Throwable cause) {
        Telemetry.UpstreamFailure kind = Relay.upstreamFailure(Failure.of(cause));
        return kind == null ? Telemetry.UpstreamFailure.RESET : kind;
    }

    /** A message from {@code side} went over the limit: both sides get 1009. */
    private void tooBig(Side side, long bytes) {
        if (end(CloseCodes.TOO_BIG, CloseCodes.TOO_BIG, "message too big")) {
            LOG.info("{}: a message from the {} exceeded {} bytes ({} so far); closing with {}", describe(),
                    side.label(), settings.maxMessageSize(), bytes, CloseCodes.TOO_BIG);
        }
    }

    private void protocolError(Side side, String why) {
        synchronized (this) {
            closeRead[side.ordinal()] = true; // its bytes can no longer be followed
        }
        int toBrowser = side == Side.CLIENT ? CloseCodes.PROTOCOL : CloseCodes.UNEXPECTED;
        int toUpstream = side == Side.UPSTREAM ? CloseCodes.PROTOCOL : CloseCodes.UNEXPECTED;
        if (end(toBrowser, toUpstream, "protocol error")) {
            LOG.info("{}: the {} broke the WebSocket protocol: {}", describe(), side.label(), why);
        }
    }

    /** A close frame was written to {@code side}. */
    private void closeWritten(Side side) {
        synchronized (this) {
            closeWritten[side.ordinal()] = true;
        }
        closedIfDone(side);
        closedIfDone(other(side));
    }

    /** Closes {@code side}'s connection once a close went to it and one came from it. */
    private void closedIfDone(Side side) {
        boolean done;
        synchronized (this) {
            done = closeWritten[side.ordinal()] && closeRead[side.ordinal()];
        }
        if (done) {
            disconnect(side);
        }
    }

    private void disconnect(Side side) {
        Wire wire;
        synchronized (this) {
            if (disconnected[side.ordinal()]) {
                return;
            }
            disconnected[side.ordinal()] = true;
            wire = side == Side.CLIENT ? browser : upstream;
        }
        if (wire != null) {
            wire.close();
            if (side == Side.UPSTREAM) {
                timers.passthroughClosed();
            }
        }
    }

    private void disconnectAll() {
        disconnect(Side.CLIENT);
        disconnect(Side.UPSTREAM);
    }

    private static Side other(Side side) {
        return side == Side.CLIENT ? Side.UPSTREAM : Side.CLIENT;
    }

    // ------------------------------------------------------------------ the two directions

    /** Reads one side, scans what it brought, and writes it to the other; then reads again. */
    private final class Pump implements FrameScanner.Sink, Wire.Completion<Integer> {
        private final Side from;
        private final Wire wire;
        private final Out out;
        private final FrameScanner scanner;
        private final Direction direction;
        private ByteBuffer buffer = ByteBuffer.allocate(SMALL_READ);
        /** Bytes the last read brought. */
        private int lastRead;
        private final List<ByteBuffer> passes = new ArrayList<>(4);
        private long messageBytes;
        /** Runs {@link #readOnce()}: reads that complete at once loop instead of recursing. */
        private final Trampoline reads = new Trampoline(this::readOnce);
        /** What each write of this pump does when done, or when it failed (made once, not per read). */
        private final Runnable readAgain = this::readNext;
        private final java.util.function.Consumer<Throwable> writeFailed = this::writeFailed;
        /** The current passes hold a close frame: once written, a close went to the other side. */
        private boolean passesClose;

        Pump(Side from, Wire wire, Out out, FrameScanner scanner) {
            this.from = from;
            this.wire = wire;
            this.out = out;
            this.scanner = scanner;
            this.direction = from == Side.CLIENT ? Direction.TO_UPSTREAM : Direction.TO_BROWSER;
        }

        void start(ByteBuffer first) {
            if (first != null && first.hasRemaining()) {
                relay(first);
            } else {
                readNext();
            }
        }

        /**
         * Reads again. Reads and writes may complete on the calling thread: a read asked for from
         * inside such a completion runs after the current one returns ({@link Trampoline}).
         */
        private void readNext() {
            reads.run();
        }

        private void readOnce() {
            // Between two reads nothing uses the buffer: the last one's bytes were written.
            if (lastRead == buffer.capacity() && buffer.capacity() < LARGE_READ) {
                buffer = LARGE_BUFFERS.take();
            } else if (lastRead < SMALL_READ / 2 && buffer.capacity() > SMALL_READ) {
                LARGE_BUFFERS.give(buffer);
                buffer = ByteBuffer.allocate(SMALL_READ);
            } else {
                buffer.clear();
            }
            wire.read(buffer, this);
        }

        @Override
        public void completed(Integer count) {
            try {
                onRead(count);
            } catch (Throwable t) {
                failedInternally(t);
            }
        }

        private void onRead(int count) {
            if (count < 0) {
                boolean expected;
                synchronized (ByteRelay.this) {
                    expected = closeRead[from.ordinal()];
                    closeRead[from.ordinal()] = true;
                }
                if (expected) {
                    disconnect(from); // after its close frame: the normal end
                } else {
                    lost(from, null);
                }
                return;
            }
            keepAlive.touch(from);
            lastRead = count;
            buffer.flip();
            relay(buffer);
        }

        @Override
        public void failed(Throwable cause) {
            try {
                boolean expected;
                synchronized (ByteRelay.this) {
                    expected = closeRead[from.ordinal()] || disconnected[from.ordinal()];
                }
                if (expected) {
                    disconnect(from);
                } else {
                    lost(from, cause);
                }
            } catch (Throwable t) {
                failedInternally(t);
            }
        }

        private void relay(ByteBuffer bytes) {
            passes.clear();
            passesClose = false;
            scanner.scan(bytes, this);
            if (scanner.stopped()) {
                return; // the relay ends; this side is disconnected after the grace period
            }
            if (passes.isEmpty()) {
                readNext();
                return;
            }
            Runnable then = passesClose ? () -> {
                closeWritten(out.side);
                readNext();
            } : readAgain;
            out.data(passes.toArray(new ByteBuffer[0]), scanner.atBoundary(), passesClose, then, writeFailed);
        }

        private void writeFailed(Throwable cause) {
            lost(out.side, cause);
        }

        @Override
        public void pass(ByteBuffer bytes) {
            passes.add(bytes);
        }

        @Override
        public Decision dataFrame(int opcode, boolean fin, long payloadLength) {
            activity.frame();
            if (isClosing()) {
                return Decision.SKIP;
            }
            messageBytes = (opcode == FrameScanner.CONTINUATION ? messageBytes : 0) + payloadLength;
            if (messageBytes > settings.maxMessageSize()) {
                // Skipped, not stopped: the sender must be able to finish its frame and answer the close.
                tooBig(from, messageBytes);
                return Decision.SKIP;
            }
            telemetry.webSocketData(tunnel.workspaceId(), direction, payloadLength, fin);
            if (fin) {
                messageBytes = 0;
            }
            return Decision.PASS;
        }

        @Override
        public boolean control(int opcode, ByteBuffer payload, ByteBuffer raw) {
            switch (opcode) {
                case FrameScanner.CLOSE -> {
                    if (closeFrom(from, payload)) {
                        passes.add(raw);
                        passesClose = true;
                    }
                    return true;
                }
                case FrameScanner.PONG -> {
                    if (KeepAlive.isOwnPayload(payload)) {
                        return true; // the answer to the relay's own ping
                    }
                }
                default -> {
                }
            }
            activity.frame();
            if (!isClosing()) {
                passes.add(raw);
            }
            return true;
        }

        @Override
        public void protocolError(String why) {
            ByteRelay.this.protocolError(from, why);
        }
    }

    /**
     * The writes to one side: the data of the pump towards it and the relay's own frames, one write
     * at a time, the relay's frames only where the data is at a frame boundary, nothing after a close.
     */
    private final class Out {
        private final Side side;
        private final Wire wire;
        // Guarded by this.
        private boolean writing;
        private boolean atBoundary = true;
        private boolean closeQueued;
        private final ArrayDeque<ByteBuffer> own = new ArrayDeque<>(2);
        private boolean ownIsClose;
        private ByteBuffer[] data;
        private boolean dataAtBoundary;
        private Runnable dataDone;
        private java.util.function.Consumer<Throwable> dataFailed;
        /** Runs {@link #writeNext()}: writes that complete at once loop instead of recursing. */
        private final Trampoline writes = new Trampoline(this::writeNext);

        Out(Side side, Wire wire) {
            this.side = side;
            this.wire = wire;
        }

        /** Data from the pump ({@code holdsClose}: a close frame passed on); {@code done} runs once it was written. */
        void data(ByteBuffer[] buffers, boolean endsAtBoundary, boolean holdsClose, Runnable done,
                  java.util.function.Consumer<Throwable> failed) {
            synchronized (this) {
                if (holdsClose) {
                    closeQueued = true; // a close passed on is the last frame too
                }
                data = buffers;
                dataAtBoundary = endsAtBoundary;
                dataDone = done;
                dataFailed = failed;
                if (writing) {
                    return; // written after the relay's frame in progress
                }
                writing = true;
            }
            next();
        }

        /** One of the relay's own frames; a close frame is the last thing written to this side. */
        void control(ByteBuffer frame, boolean close) {
            synchronized (this) {
                if (closeQueued) {
                    return;
                }
                if (close) {
                    closeQueued = true;
                    ownIsClose = true;
                }
                own.add(frame);
                if (writing || !atBoundary) {
                    return; // written at the next boundary
                }
                writing = true;
            }
            try {
                next(); // from a timer, the revocation watcher or a drain, not only from this relay's own steps
            } catch (Throwable t) {
                failedInternally(t);
            }
        }

        /**
         * Starts the next write. A write may complete on the calling thread, and its completion asks
         * for the next one (after letting the pump read, which may also complete at once): asked from
         * inside such a completion, it runs after the current one returns ({@link Trampoline}).
         */
        private void next() {
            writes.run();
        }

        /** One write: the relay's frames first when at a boundary, else the pump's data. */
        private void writeNext() {
            ByteBuffer[] buffers;
            Runnable done;
            java.util.function.Consumer<Throwable> failed;
            boolean boundaryAfter;
            boolean isClose = false;
            synchronized (this) {
                if (atBoundary && !own.isEmpty()) {
                    buffers = own.toArray(new ByteBuffer[0]);
                    own.clear();
                    isClose = ownIsClose;
                    ownIsClose = false;
                    done = null;
                    failed = null;
                    boundaryAfter = true;
                } else if (data != null) {
                    // Data after the relay's close is only ever the rest of a frame begun before it.
                    buffers = data;
                    done = dataDone;
                    failed = dataFailed;
                    boundaryAfter = dataAtBoundary;
                    data = null;
                    dataDone = null;
                    dataFailed = null;
                } else {
                    writing = false;
                    return;
                }
            }
            boolean closeFrame = isClose;
            wire.write(buffers, new Wire.Completion<>() {
                @Override
                public void completed(Void result) {
                    try {
                        if (done != null) {
                            keepAlive.touch(side); // data taken is life; the relay's own pings are not
                        }
                        synchronized (Out.this) {
                            atBoundary = boundaryAfter;
                        }
                        if (closeFrame) {
                            closeWritten(side);
                        }
                        if (done != null) {
                            done.run();
                        }
                        next();
                    } catch (Throwable t) {
                        failedInternally(t);
                    }
                }

                @Override
                public void failed(Throwable cause) {
                    try {
                        synchronized (Out.this) {
                            writing = false;
                            own.clear();
                            data = null;
                        }
                        if (failed != null) {
                            failed.accept(cause);
                        } else {
                            lost(side, cause);
                        }
                    } catch (Throwable t) {
                        failedInternally(t);
                    }
                }
            });
        }
    }
}

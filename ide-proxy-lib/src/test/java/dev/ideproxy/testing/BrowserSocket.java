package dev.ideproxy.testing;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/**
 * The browser's end of a WebSocket in tests, on Jetty's native client: it reads with explicit demand
 * (so a test can {@link #pause()} reading, like a slow tab), records each message with the number of
 * frames it came in, the pings and pongs it receives and how the session closed, and answers pings
 * as a browser does (unless told not to). In {@link #countOnly()} mode binary messages are counted
 * and their leading sequence numbers checked instead of being kept.
 *
 * <p>Public: Jetty binds listener methods through method handles.
 */
public final class BrowserSocket implements Session.Listener {
    /** A whole message: {@code text} or {@code binary} is set. */
    public record Message(String text, byte[] binary, int frames) {
    }

    /** How the session ended. */
    public record Closed(int code, String reason) {
    }

    private final BlockingQueue<Message> messages = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> pings = new LinkedBlockingQueue<>();
    private final BlockingQueue<String> pongs = new LinkedBlockingQueue<>();
    private final CompletableFuture<Closed> closed = new CompletableFuture<>();
    private final CountDownLatch opened = new CountDownLatch(1);
    private final AtomicLong binaryBytes = new AtomicLong();
    private final AtomicLong sequenceErrors = new AtomicLong();
    private final AtomicBoolean demandOwed = new AtomicBoolean();
    private volatile boolean paused;
    private volatile boolean answerPings = true;
    private volatile boolean countOnly;
    private volatile Session session;
    private StringBuilder text;
    private ByteArrayOutputStream binary;
    private int frames;
    private final ByteBuffer header = ByteBuffer.allocate(8);
    private boolean headerChecked;
    private long nextSequence;

    /**
     * Opens a WebSocket to {@code path} on {@code server} with the session {@code cookie}, as a browser
     * would; fails (an {@code ExecutionException} wrapping Jetty's {@code UpgradeException}) when the
     * upgrade is refused.
     */
    public static BrowserSocket open(WebSocketClient client, Container.Running server, String path, String cookie)
            throws Exception {
        BrowserSocket socket = new BrowserSocket();
        ClientUpgradeRequest request = new ClientUpgradeRequest();
        request.setHeader("Cookie", cookie);
        client.connect(socket, URI.create("ws://" + server.hostHeader() + path), request).get(10, TimeUnit.SECONDS);
        return socket;
    }

    public Session session() {
        return session;
    }

    /** Stop answering pings (a browser whose tab is frozen, or a dead peer). */
    public BrowserSocket ignorePings() {
        answerPings = false;
        return this;
    }

    /** Count binary bytes and check sequence numbers instead of keeping messages. */
    public BrowserSocket countOnly() {
        countOnly = true;
        return this;
    }

    /** Stops reading: no more demand until {@link #resume()}. */
    public void pause() {
        paused = true;
    }

    public void resume() {
        paused = false;
        if (demandOwed.compareAndSet(true, false)) {
            session.demand();
        }
    }

    public long binaryBytes() {
        return binaryBytes.get();
    }

    public long sequenceErrors() {
        return sequenceErrors.get();
    }

    public Message nextMessage(Duration timeout) throws InterruptedException {
        return messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Sends {@code text} and returns the text of the next message (failing when none came within 10 s). */
    public String roundTrip(String text) throws InterruptedException {
        session.sendText(text, Callback.NOOP);
        Message reply = nextMessage(Duration.ofSeconds(10));
        if (reply == null) {
            throw new AssertionError("no reply to '" + text + "' within 10 s");
        }
        return reply.text();
    }

    /** Sends {@code bytes} as one binary message and returns the next message's bytes (failing when none came in time). */
    public byte[] roundTrip(byte[] bytes, Duration timeout) throws InterruptedException {
        session.sendBinary(java.nio.ByteBuffer.wrap(bytes), Callback.NOOP);
        Message reply = nextMessage(timeout);
        if (reply == null) {
            throw new AssertionError("no echo of " + bytes.length + " bytes within " + timeout.toSeconds() + " s");
        }
        return reply.binary();
    }

    public String nextPing(Duration timeout) throws InterruptedException {
        return pings.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public String nextPong(Duration timeout) throws InterruptedException {
        return pongs.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public int pingsReceived() {
        return pings.size();
    }

    public CompletableFuture<Closed> closed() {
        return closed;
    }

    public boolean isOpen() {
        Session s = session;
        return s != null && s.isOpen() && !closed.isDone();
    }

    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        opened.countDown();
        session.demand();
    }

    @Override
    public void onWebSocketPartialText(String payload, boolean last) {
        frames++;
        if (text == null) {
            text = new StringBuilder();
        }
        text.append(payload);
        if (last) {
            messages.add(new Message(text.toString(), null, frames));
            text = null;
            frames = 0;
        }
        next();
    }

    @Override
    public void onWebSocketPartialBinary(ByteBuffer payload, boolean last, Callback callback) {
        frames++;
        binaryBytes.addAndGet(payload.remaining());
        if (countOnly) {
            // The first 8 bytes of each message are its sequence number; they may span partial frames.
            ByteBuffer part = payload.duplicate();
            while (header.position() < 8 && part.hasRemaining()) {
                header.put(part.get());
            }
            if (header.position() == 8 && !headerChecked) {
                if (header.getLong(0) != nextSequence) {
                    sequenceErrors.incrementAndGet();
                }
                nextSequence++;
                headerChecked = true;
            }
            if (last) {
                header.clear();
                headerChecked = false;
                frames = 0;
            }
        } else {
            if (binary == null) {
                binary = new ByteArrayOutputStream();
            }
            byte[] bytes = new byte[payload.remaining()];
            payload.get(bytes);
            binary.write(bytes, 0, bytes.length);
            if (last) {
                messages.add(new Message(null, binary.toByteArray(), frames));
                binary = null;
                frames = 0;
            }
        }
        callback.succeed();
        next();
    }

    @Override
    public void onWebSocketPing(ByteBuffer payload) {
        pings.add(StandardCharsets.UTF_8.decode(payload.duplicate()).toString());
        if (answerPings) {
            session.sendPong(payload, Callback.NOOP);
        }
        next();
    }

    @Override
    public void onWebSocketPong(ByteBuffer payload) {
        pongs.add(StandardCharsets.UTF_8.decode(payload).toString());
        next();
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason) {
        closed.complete(new Closed(statusCode, reason));
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        closed.complete(new Closed(-1, String.valueOf(cause)));
    }

    private void next() {
        if (paused) {
            demandOwed.set(true);
            if (!paused && demandOwed.compareAndSet(true, false)) {
                session.demand();
            }
        } else {
            session.demand();
        }
    }
}

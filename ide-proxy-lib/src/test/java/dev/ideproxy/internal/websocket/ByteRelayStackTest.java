package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ideproxy.config.WebSocketMode;
import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.internal.telemetry.Telemetry;
import dev.ideproxy.internal.tunnel.TunnelRequest;
import dev.ideproxy.internal.wire.Wire;
import dev.ideproxy.target.Target;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The passthrough when both sockets keep up: every read and write then completes on the calling
 * thread, and the relay must not let its stack grow with the data. Real sockets complete at once only
 * some of the time (whenever the browser has sent more and the upstream has room), so these wires do
 * it every time: the browser's has 64 MiB ready, the upstream's takes everything at once after its
 * first write. The first write's completion runs on a thread with a small stack.
 */
class ByteRelayStackTest {
    private static final int MIB = 1 << 20;

    @Test
    void readsAndWritesThatCompleteAtOnceDoNotGrowTheStack() throws Exception {
        int messages = 64;
        ByteBuffer stream = maskedBinaryMessages(messages, MIB);
        int total = stream.remaining();
        ReadyBrowser browser = new ReadyBrowser(stream);
        KeepingUpstream upstream = new KeepingUpstream();
        RelaySettings settings = new RelaySettings(64L * MIB, Duration.ofHours(1), Duration.ofHours(1),
                Duration.ofSeconds(5), WebSocketMode.PASSTHROUGH);
        UpstreamConnector connector = new UpstreamConnector(null, settings);
        try {
            TunnelRequest tunnel = new TunnelRequest("w", "alice", Target.of("w", "http://127.0.0.1:9"),
                    "/__ide/w/", "/", null);
            ActivityTracker activity = new ActivityTracker(Clock.systemUTC(), Duration.ofSeconds(1),
                    Duration.ofDays(1), null, null);
            ByteRelay relay = new ByteRelay(tunnel, settings, new LiveRelays(), connector, Telemetry.NONE,
                    activity.entry("w"));
            relay.start(browser, upstream, null);

            AtomicReference<Throwable> thrown = new AtomicReference<>();
            Thread small = new Thread(null, upstream::completeFirstWrite, "small-stack", 256 * 1024);
            small.setUncaughtExceptionHandler((t, e) -> thrown.set(e));
            small.start();
            small.join(60_000);

            assertNull(thrown.get(), () -> "the relay's stack grew with the data: " + thrown.get());
            assertNull(upstream.failure.get(), "a write failed");
            assertEquals(total, upstream.received.get(), "every byte reached the upstream");
        } finally {
            connector.stop();
        }
    }

    /** Binary messages as a browser sends them: masked (with a zero key, so the payload reads as is). */
    private static ByteBuffer maskedBinaryMessages(int count, int size) {
        ByteBuffer out = ByteBuffer.allocate(count * (size + 14));
        for (int i = 0; i < count; i++) {
            out.put((byte) 0x82).put((byte) (0x80 | 127)).putLong(size).putInt(0);
            out.put(new byte[size]);
        }
        return out.flip();
    }

    /** Has every byte ready: each read completes at once, until the bytes run out; then it waits for ever. */
    private static final class ReadyBrowser implements Wire {
        private final ByteBuffer bytes;

        ReadyBrowser(ByteBuffer bytes) {
            this.bytes = bytes;
        }

        @Override
        public void read(ByteBuffer buffer, Completion<Integer> done) {
            if (!bytes.hasRemaining()) {
                return;
            }
            int n = Math.min(buffer.remaining(), bytes.remaining());
            buffer.put(bytes.slice(bytes.position(), n));
            bytes.position(bytes.position() + n);
            done.completed(n);
        }

        @Override
        public void write(ByteBuffer[] buffers, Completion<Void> done) {
            done.completed(null);
        }

        @Override
        public void close() {
        }

        @Override
        public String label() {
            return "browser";
        }
    }

    /** Sends nothing; its first write waits for {@link #completeFirstWrite}, every later one completes at once. */
    private static final class KeepingUpstream implements Wire {
        final AtomicLong received = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private Completion<Void> first;
        private boolean firstDone;

        @Override
        public void read(ByteBuffer buffer, Completion<Integer> done) {
            // The upstream says nothing.
        }

        @Override
        public synchronized void write(ByteBuffer[] buffers, Completion<Void> done) {
            for (ByteBuffer b : buffers) {
                received.addAndGet(b.remaining());
                b.position(b.limit());
            }
            if (!firstDone && first == null) {
                first = done;
                notifyAll();
                return;
            }
            done.completed(null);
        }

        void completeFirstWrite() {
            Completion<Void> done;
            synchronized (this) {
                while (first == null) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
                done = first;
                firstDone = true;
            }
            done.completed(null);
        }

        @Override
        public void close() {
            failure.compareAndSet(null, new IllegalStateException("closed"));
        }

        @Override
        public String label() {
            return "upstream";
        }
    }
}

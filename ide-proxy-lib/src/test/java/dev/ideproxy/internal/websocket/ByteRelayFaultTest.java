package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.config.WebSocketMode;
import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.internal.telemetry.Telemetry;
import dev.ideproxy.internal.tunnel.TunnelRequest;
import dev.ideproxy.internal.wire.Wire;
import dev.ideproxy.target.Target;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A fault inside the passthrough (here, the upstream's wire throwing an {@code Error} when asked to
 * write, as a bug anywhere in a relay's step would) must end that relay and drop both of its
 * connections, and must not escape into the thread that delivered the browser's bytes: on Tomcat
 * that is a container thread, on Jetty a selector thread, and for upstream bytes ide-proxy's own
 * selector thread, which every other relay on it depends on (ChannelWireTest covers that thread).
 * No real server throws on purpose, hence these in-memory wires.
 */
class ByteRelayFaultTest {

    @Test
    void anErrorInARelayStepEndsThatRelayAndNotTheCallersThread() throws Exception {
        RelaySettings settings = new RelaySettings(1L << 20, Duration.ofHours(1), Duration.ofHours(1),
                Duration.ofSeconds(5), WebSocketMode.PASSTHROUGH);
        UpstreamConnector connector = new UpstreamConnector(null, settings);
        try {
            TunnelRequest tunnel = new TunnelRequest("w", "alice", Target.of("w", "http://127.0.0.1:9"),
                    "/__ide/w/", "/", null);
            ActivityTracker activity = new ActivityTracker(Clock.systemUTC(), Duration.ofSeconds(1),
                    Duration.ofDays(1), null, null);
            LiveRelays registry = new LiveRelays();
            ByteRelay relay = new ByteRelay(tunnel, settings, registry, connector, Telemetry.NONE, activity.entry("w"));
            assertEquals(LiveRelays.Admission.ADDED, registry.add(relay));
            HeldWire browser = new HeldWire("browser");
            FaultyUpstream upstream = new FaultyUpstream();
            relay.start(browser, upstream, null);
            assertNotNull(browser.pendingRead, "the relay reads from the browser");

            // A masked text frame from the browser: relaying it asks the upstream to write, which throws.
            byte[] payload = "hello".getBytes(StandardCharsets.UTF_8);
            ByteBuffer frame = ByteBuffer.allocate(6 + payload.length)
                    .put((byte) 0x81).put((byte) (0x80 | payload.length)).putInt(0).put(payload).flip();
            browser.pendingBuffer.put(frame);
            Wire.Completion<Integer> read = browser.pendingRead;
            assertDoesNotThrow(() -> read.completed(6 + payload.length), "the fault escaped to the browser's thread");

            assertTrue(upstream.writeAsked, "the relay did ask the upstream to write");
            assertTrue(relay.isClosing(), "the relay ended");
            assertEquals(0, registry.size(), "the relay left the registry");
            assertTrue(browser.closed, "the browser's connection was dropped");
            assertTrue(upstream.closed, "the upstream's connection was dropped");
        } finally {
            connector.stop();
        }
    }

    /** Keeps its read pending for the test to complete; takes every write at once. */
    private static class HeldWire implements Wire {
        private final String label;
        volatile Completion<Integer> pendingRead;
        volatile ByteBuffer pendingBuffer;
        volatile boolean closed;

        HeldWire(String label) {
            this.label = label;
        }

        @Override
        public void read(ByteBuffer buffer, Completion<Integer> done) {
            pendingBuffer = buffer;
            pendingRead = done;
        }

        @Override
        public void write(ByteBuffer[] buffers, Completion<Void> done) {
            for (ByteBuffer b : buffers) {
                b.position(b.limit());
            }
            done.completed(null);
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public String label() {
            return label;
        }
    }

    /** Says nothing, and throws an {@code Error} when asked to write. */
    private static final class FaultyUpstream extends HeldWire {
        volatile boolean writeAsked;

        FaultyUpstream() {
            super("upstream");
        }

        @Override
        public void write(ByteBuffer[] buffers, Completion<Void> done) {
            writeAsked = true;
            throw new AssertionError("a fault while relaying");
        }
    }
}

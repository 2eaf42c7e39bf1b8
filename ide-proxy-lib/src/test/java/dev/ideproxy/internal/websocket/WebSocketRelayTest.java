package dev.ideproxy.internal.websocket;

import static dev.ideproxy.internal.websocket.TunnelFixture.WAIT;
import static dev.ideproxy.internal.websocket.TunnelFixture.close;
import static dev.ideproxy.internal.websocket.TunnelFixture.text;
import static dev.ideproxy.internal.websocket.TunnelFixture.waitUntil;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.WebSocketUpstream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.eclipse.jetty.websocket.api.Callback;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The WebSocket relay carries data end to end on both containers: text and binary of every size,
 * both directions at full flow, a message sent the moment the socket opens, many sessions at once each
 * to its own upstream (the owner's regression), and a flood to a slow reader that stalls the upstream
 * instead of filling the heap.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WebSocketRelayTest {
    static final int FLEET = 10;

    @RegisterExtension
    static final TunnelFixture fixture = withFleet(new TunnelFixture().upstream("a", "A"));

    final WebSocketUpstream upstreamA = fixture.upstream("a");
    final List<WebSocketUpstream> fleet = IntStream.range(0, FLEET).mapToObj(i -> fixture.upstream("u" + i)).toList();

    /** Adds workspaces u0 to u9, each its own upstream tagged with its id. */
    private static TunnelFixture withFleet(TunnelFixture fixture) {
        for (int i = 0; i < FLEET; i++) {
            fixture.upstream("u" + i, "u" + i);
        }
        return fixture;
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void echoesTextAndBinaryFromOneByteTo16MiB(Container kind) throws Exception {
        BrowserSocket socket = fixture.open(kind, "a", "/echo", r -> { });
        Random random = new Random(42);
        for (int size : new int[] {1, 125, 126, 65_535, 65_536, 1 << 20, 16 << 20}) {
            String text = text(size, random);
            socket.session().sendText(text, Callback.NOOP);
            BrowserSocket.Message reply = socket.nextMessage(WAIT);
            assertNotNull(reply, "no echo of " + size + " chars");
            assertEquals("A|" + text, reply.text(), "text of " + size + " chars");

            byte[] bytes = new byte[size];
            random.nextBytes(bytes);
            socket.session().sendBinary(ByteBuffer.wrap(bytes), Callback.NOOP);
            reply = socket.nextMessage(WAIT);
            assertNotNull(reply, "no echo of " + size + " bytes");
            assertArrayEquals(bytes, reply.binary(), "binary of " + size + " bytes");
        }
        close(socket);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void duplexStreamingDoesNotDeadlock(Container kind) throws Exception {
        // The upstream echoes each fragment while the browser is still sending: both directions at full flow.
        BrowserSocket socket = fixture.open(kind, "a", "/stream-echo", r -> { });
        byte[] bytes = new byte[16 << 20];
        new Random(3).nextBytes(bytes);
        socket.session().sendBinary(ByteBuffer.wrap(bytes), Callback.NOOP);
        BrowserSocket.Message reply = socket.nextMessage(Duration.ofSeconds(60));
        assertNotNull(reply, "no echo within 60 s: the relay deadlocked");
        assertArrayEquals(bytes, reply.binary());
        close(socket);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void sessionsSwitchingBetweenBulkAndSmallMessagesEachGetOnlyTheirOwnBytes(Container kind) throws Exception {
        // Bulk reads use large buffers that relays give back to a shared pool after a small message and
        // take again for the next bulk one: whatever a buffer held before, every byte must be this session's.
        int sessions = 6;
        int rounds = 8;
        for (int i = 0; i < sessions; i++) {
            fixture.cookie(kind, "u" + i);
        }
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        try {
            List<Future<?>> talking = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                int session = s;
                talking.add(pool.submit((Callable<Void>) () -> {
                    BrowserSocket socket = fixture.open(kind, "u" + session, "/echo", r -> { });
                    Random random = new Random(session);
                    for (int round = 0; round < rounds; round++) {
                        byte[] bulk = new byte[(1 << 20) + random.nextInt(1 << 16)];
                        random.nextBytes(bulk);
                        socket.session().sendBinary(ByteBuffer.wrap(bulk), Callback.NOOP);
                        BrowserSocket.Message reply = socket.nextMessage(WAIT);
                        assertNotNull(reply, "session " + session + " round " + round + ": no bulk echo");
                        assertArrayEquals(bulk, reply.binary(), "session " + session + " round " + round);
                        for (int small = 0; small < 3; small++) {
                            String text = "s" + session + "r" + round + "m" + small;
                            socket.session().sendText(text, Callback.NOOP);
                            reply = socket.nextMessage(WAIT);
                            assertNotNull(reply, text + ": no echo");
                            assertEquals("u" + session + "|" + text, reply.text());
                        }
                    }
                    close(socket);
                    return null;
                }));
            }
            for (Future<?> f : talking) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        fixture.awaitNoRelays(kind);
        if (fixture.passthrough(kind)) {
            assertTrue(ByteRelay.LARGE_BUFFERS.idle() > 0, "the relays gave their large buffers back");
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aMessageSentRightAfterConnectingIsNotLost(Container kind) throws Exception {
        for (int i = 0; i < 20; i++) {
            BrowserSocket socket = fixture.open(kind, "a", "/greet", r -> { });
            BrowserSocket.Message first = socket.nextMessage(WAIT);
            assertNotNull(first, "greeting lost on attempt " + i);
            assertEquals("A|hello", first.text());
            close(socket);
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void concurrentSessionsEachReachOnlyTheirOwnUpstream(Container kind) throws Exception {
        int sessions = 50;
        int messages = 20;
        Map<WebSocketUpstream, Integer> before = new LinkedHashMap<>();
        fleet.forEach(u -> before.put(u, u.handshakeCount()));
        for (int i = 0; i < FLEET; i++) {
            fixture.cookie(kind, "u" + i);
        }
        ExecutorService pool = Executors.newFixedThreadPool(sessions);
        try {
            List<Future<BrowserSocket>> opening = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                String workspace = "u" + (s % FLEET);
                opening.add(pool.submit(() -> fixture.open(kind, workspace, "/ide", r -> { })));
            }
            List<BrowserSocket> sockets = new ArrayList<>();
            for (Future<BrowserSocket> f : opening) {
                sockets.add(f.get(60, TimeUnit.SECONDS));
            }
            List<Future<?>> talking = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                int session = s;
                BrowserSocket socket = sockets.get(s);
                String tag = "u" + (s % FLEET);
                talking.add(pool.submit((Callable<Void>) () -> {
                    for (int m = 0; m < messages; m++) {
                        String text = "session-" + session + "-message-" + m;
                        socket.session().sendText(text, Callback.NOOP);
                        BrowserSocket.Message reply = socket.nextMessage(WAIT);
                        assertNotNull(reply, text + ": no reply");
                        assertEquals(tag + "|" + text, reply.text(), "session " + session + " got another upstream's reply");
                    }
                    return null;
                }));
            }
            for (Future<?> f : talking) {
                f.get(60, TimeUnit.SECONDS);
            }
            for (BrowserSocket socket : sockets) {
                assertNull(socket.nextMessage(Duration.ZERO), "a stray message");
                close(socket);
            }
        } finally {
            pool.shutdownNow();
        }
        for (int i = 0; i < FLEET; i++) {
            WebSocketUpstream upstream = fleet.get(i);
            assertEquals(before.get(upstream) + sessions / FLEET, upstream.handshakeCount(), upstream.tag());
        }
        fixture.awaitNoRelays(kind);
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aFloodToASlowReaderStallsTheUpstreamAndKeepsTheHeapBounded(Container kind) throws Exception {
        long total = 1L << 30;
        int size = 64 * 1024;
        BrowserSocket socket = fixture.open(kind, "a", "/echo", r -> { }).countOnly();
        socket.pause();
        HeapWatch heap = new HeapWatch();
        heap.start();
        long started = System.nanoTime();
        socket.session().sendText("!flood " + total + " " + size, Callback.NOOP);
        Thread.sleep(3_000);
        long sent1 = upstreamA.floodSent();
        Thread.sleep(1_000);
        long sent2 = upstreamA.floodSent();
        long received = socket.binaryBytes();
        System.gc();
        long usedWhilePaused = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        System.out.printf("[%s] flood paused: upstream sent %d MiB, browser read %d KiB, heap after GC %d MiB%n",
                kind, sent2 >> 20, received >> 10, usedWhilePaused >> 20);
        assertTrue(sent2 - sent1 < (1 << 20), "the upstream's sends stalled while the browser paused: "
                + (sent2 - sent1) + " bytes in 1 s");
        assertTrue(sent2 < (64L << 20), "only socket buffers' worth left the upstream: " + (sent2 >> 20) + " MiB");
        assertTrue(usedWhilePaused < (192L << 20), "heap after GC: " + (usedWhilePaused >> 20) + " MiB");

        socket.resume();
        waitUntil(() -> socket.binaryBytes() >= total, Duration.ofSeconds(75), "1 GiB to arrive");
        long seconds = Math.max(1, (System.nanoTime() - started) / 1_000_000_000L);
        heap.stop();
        assertEquals(total, socket.binaryBytes());
        assertEquals(0, socket.sequenceErrors(), "messages arrived in order");
        System.out.printf("[%s] flood of 1 GiB done in about %d s; peak live heap during the flood %d MiB%n",
                kind, seconds, heap.peakAfterGc() >> 20);
        assertTrue(heap.peakAfterGc() < (192L << 20), "peak live heap during the flood: " + (heap.peakAfterGc() >> 20) + " MiB");
        close(socket);
    }

    /**
     * Samples the live heap during a transfer: a full collection, then the heap in use, once a second.
     * (The pools' after-collection usage is no measure of what is live: the old generation keeps its
     * garbage until it is collected, so that figure follows the heap's size, not the relay's needs.)
     */
    static final class HeapWatch {
        private final AtomicLong peak = new AtomicLong();
        private volatile boolean running = true;
        private Thread thread;

        void start() {
            thread = new Thread(() -> {
                while (running) {
                    System.gc();
                    long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                    peak.accumulateAndGet(used, Math::max);
                    try {
                        Thread.sleep(1_000);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "heap-watch");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join(1_000);
        }

        long peakAfterGc() {
            return peak.get();
        }
    }
}

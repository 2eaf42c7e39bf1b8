package dev.ideproxy.internal.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The passthrough's upstream socket on its selector loop, against a plain blocking peer on
 * loopback: the paths the relay tests reach only by chance (a socket that takes a write in
 * parts, a read asked for from another thread, close and stop with operations outstanding).
 */
class ChannelWireTest {
    private static final long WAIT = 10;

    private UpstreamHandshake.Group group;
    private ServerSocket server;

    @BeforeEach
    void start() throws Exception {
        group = new UpstreamHandshake.Group("wire-test", 1);
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void stop() throws Exception {
        group.close();
        server.close();
    }

    /** A wire connected to the peer socket the server accepted. */
    private record Connection(Wire wire, Socket peer) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            peer.close();
        }
    }

    private Connection open() throws Exception {
        CompletableFuture<Wire> connected = new CompletableFuture<>();
        group.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort()),
                completion(connected));
        Socket peer = server.accept();
        return new Connection(connected.get(WAIT, TimeUnit.SECONDS), peer);
    }

    @Test
    void aWriteTheSocketTakesAtOnceCompletesOnTheCallingThread() throws Exception {
        try (Connection c = open()) {
            Wire wire = c.wire();
            Socket peer = c.peer();
            CompletableFuture<Thread> done = new CompletableFuture<>();
            wire.write(new ByteBuffer[] {ByteBuffer.wrap("ab".getBytes()), ByteBuffer.wrap("cd".getBytes())},
                    new Wire.Completion<>() {
                        @Override
                        public void completed(Void result) {
                            done.complete(Thread.currentThread());
                        }

                        @Override
                        public void failed(Throwable cause) {
                            done.completeExceptionally(cause);
                        }
                    });
            assertSame(Thread.currentThread(), done.getNow(null), "completed at once, on the writer's thread");
            assertArrayEquals("abcd".getBytes(), peer.getInputStream().readNBytes(4));
            wire.close();
        }
    }

    @Test
    void aWriteTheSocketTakesInPartsCompletesOnceThePeerReadEverything() throws Exception {
        try (Connection c = open()) {
            Wire wire = c.wire();
            Socket peer = c.peer();
            byte[] bytes = new byte[32 << 20]; // more than both sockets' buffers hold
            new Random(7).nextBytes(bytes);
            CompletableFuture<Void> written = new CompletableFuture<>();
            wire.write(new ByteBuffer[] {ByteBuffer.wrap(bytes, 0, 1000), ByteBuffer.wrap(bytes, 1000, bytes.length - 1000)},
                    completion(written));
            Thread.sleep(500);
            assertFalse(written.isDone(), "the peer read nothing yet: the write waits for the socket");
            byte[] received = peer.getInputStream().readNBytes(bytes.length);
            written.get(WAIT, TimeUnit.SECONDS);
            assertArrayEquals(bytes, received);
            wire.close();
        }
    }

    /**
     * A completion that throws, even an {@code Error} (a relay's bug: a {@code StackOverflowError}, an
     * assertion), closes its own socket only: the loop thread goes on serving every other socket on it
     * and the ones connected later. (The group here has one loop, so the second connection is on it.)
     */
    @Test
    void aCompletionThatThrowsAnErrorClosesItsSocketAndTheLoopGoesOn() throws Exception {
        try (Connection broken = open()) {
            CompletableFuture<Thread> threw = new CompletableFuture<>();
            broken.wire().read(ByteBuffer.allocate(16), new Wire.Completion<>() {
                @Override
                public void completed(Integer count) {
                    threw.complete(Thread.currentThread());
                    throw new AssertionError("a bug in the completion");
                }

                @Override
                public void failed(Throwable cause) {
                    threw.completeExceptionally(cause);
                }
            });
            broken.peer().getOutputStream().write(1);
            Thread loop = threw.get(WAIT, TimeUnit.SECONDS);
            broken.peer().setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT));
            assertEquals(-1, broken.peer().getInputStream().read(), "the failed socket was closed");
            assertTrue(loop.isAlive(), "the loop thread survived");

            try (Connection next = open()) {
                ByteBuffer buffer = ByteBuffer.allocate(16);
                CompletableFuture<Integer> read = new CompletableFuture<>();
                next.wire().read(buffer, completion(read));
                next.peer().getOutputStream().write("ok".getBytes());
                assertEquals(2, read.get(WAIT, TimeUnit.SECONDS), "a socket on the same loop is served");
                next.wire().close();
            }
        }
    }

    @Test
    void aReadAskedForFromAnotherThreadSeesTheDataThenTheEnd() throws Exception {
        try (Connection c = open()) {
            Wire wire = c.wire();
            Socket peer = c.peer();
            ByteBuffer buffer = ByteBuffer.allocate(64);
            CompletableFuture<Integer> first = new CompletableFuture<>();
            wire.read(buffer, completion(first));
            Thread.sleep(200);
            assertFalse(first.isDone(), "nothing to read yet");
            OutputStream out = peer.getOutputStream();
            out.write("hello".getBytes());
            out.flush();
            assertEquals(5, first.get(WAIT, TimeUnit.SECONDS));
            assertEquals("hello", new String(buffer.array(), 0, buffer.position()));
            // A second read, asked for later from this (foreign) thread, after more data arrived.
            out.write("world".getBytes());
            out.flush();
            Thread.sleep(100);
            buffer.clear();
            CompletableFuture<Integer> second = new CompletableFuture<>();
            wire.read(buffer, completion(second));
            assertEquals(5, second.get(WAIT, TimeUnit.SECONDS));
            peer.shutdownOutput();
            buffer.clear();
            CompletableFuture<Integer> end = new CompletableFuture<>();
            wire.read(buffer, completion(end));
            assertEquals(-1, end.get(WAIT, TimeUnit.SECONDS));
            wire.close();
        }
    }

    @Test
    void closeFailsTheOutstandingReadAndWriteAndThePeerSeesTheEnd() throws Exception {
        try (Connection c = open()) {
            Wire wire = c.wire();
            Socket peer = c.peer();
            CompletableFuture<Integer> read = new CompletableFuture<>();
            wire.read(ByteBuffer.allocate(16), completion(read));
            CompletableFuture<Void> written = new CompletableFuture<>();
            wire.write(new ByteBuffer[] {ByteBuffer.allocate(32 << 20)}, completion(written));
            Thread.sleep(200);
            assertFalse(read.isDone());
            assertFalse(written.isDone());
            wire.close();
            assertInstanceOf(AsynchronousCloseException.class, failure(read));
            assertInstanceOf(AsynchronousCloseException.class, failure(written));
            assertEquals(-1, drain(peer.getInputStream()), "the peer reads the end of the stream");
            CompletableFuture<Integer> after = new CompletableFuture<>();
            wire.read(ByteBuffer.allocate(16), completion(after));
            assertInstanceOf(AsynchronousCloseException.class, failure(after), "a read after close fails at once");
        }
    }

    @Test
    void stoppingTheGroupClosesItsSockets() throws Exception {
        try (Connection c = open()) {
            Wire wire = c.wire();
            Socket peer = c.peer();
            CompletableFuture<Integer> read = new CompletableFuture<>();
            wire.read(ByteBuffer.allocate(16), completion(read));
            group.close();
            assertTrue(failure(read) instanceof java.io.IOException, "the outstanding read failed");
            peer.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT));
            assertEquals(-1, peer.getInputStream().read(), "the peer reads the end of the stream");
        }
    }

    @Test
    void aRefusedConnectionFails() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        CompletableFuture<Wire> connected = new CompletableFuture<>();
        try {
            group.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), completion(connected));
        } catch (ConnectException refusedAtOnce) {
            assertFalse(connected.isDone(), "refused once: thrown, not also failed");
            return;
        }
        assertInstanceOf(ConnectException.class, failure(connected));
    }

    /** Reads until the end of the stream; returns -1 then (the stream's last answer). */
    private static int drain(InputStream in) throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        in.transferTo(sink);
        return in.read();
    }

    private static Throwable failure(CompletableFuture<?> future) throws Exception {
        try {
            future.get(WAIT, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        }
        throw new AssertionError("completed instead of failing");
    }

    static <T> Wire.Completion<T> completion(CompletableFuture<T> future) {
        return new Wire.Completion<>() {
            @Override
            public void completed(T result) {
                future.complete(result);
            }

            @Override
            public void failed(Throwable cause) {
                future.completeExceptionally(cause);
            }
        };
    }
}

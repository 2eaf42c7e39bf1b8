package dev.ideproxy.internal.wire;

import static dev.ideproxy.internal.wire.ChannelWireTest.completion;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The browser's side of a passthrough on embedded Jetty, with a raw socket as the browser: what the
 * WebSocket tests reach only by chance (bytes sent in the same packet as the handshake, a connection
 * idle for longer than the connector allows, a wire closed before Jetty handed the connection over).
 * The servlet answers the handshake as the relay does and echoes through the {@link Wire} API.
 */
class JettyWireTest {
    private static final long WAIT = 10;
    /** Far shorter than the pause in the idle test: Jetty's own timeout must not apply once handed over. */
    private static final long CONNECTOR_IDLE_MS = 300;
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    private static Server server;
    private static int port;
    private static final BlockingQueue<Echo> ECHOES = new LinkedBlockingQueue<>();
    private static final BlockingQueue<Abandoned> ABANDONED = new LinkedBlockingQueue<>();
    private static final Executor LOOP = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "jetty-wire-test");
        t.setDaemon(true);
        return t;
    });

    /** Takes the connection over (as the relay does), then echoes every byte until the end of the stream. */
    public static final class EchoServlet extends HttpServlet {
        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
            BrowserWires wires = BrowserWires.of(request);
            if (wires == null) {
                response.sendError(501, "no wire for " + request.getClass().getName());
                return;
            }
            answer(request, response);
            BrowserWire wire = wires.upgrade(request);
            response.setStatus(HttpServletResponse.SC_SWITCHING_PROTOCOLS);
            Echo echo = new Echo(wires, wire);
            ECHOES.add(echo);
            echo.next();
        }
    }

    /** Takes the connection over, asks for a read and a write, then closes the wire before returning. */
    public static final class AbandonServlet extends HttpServlet {
        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
            answer(request, response);
            BrowserWire wire = BrowserWires.of(request).upgrade(request);
            response.setStatus(HttpServletResponse.SC_SWITCHING_PROTOCOLS);
            Abandoned abandoned = new Abandoned(wire, new CompletableFuture<>(), new CompletableFuture<>());
            wire.read(ByteBuffer.allocate(16), completion(abandoned.read()));
            wire.write(new ByteBuffer[] {ByteBuffer.wrap("never".getBytes(StandardCharsets.US_ASCII))},
                    completion(abandoned.write()));
            wire.close();
            ABANDONED.add(abandoned);
        }
    }

    private record Abandoned(BrowserWire wire, CompletableFuture<Integer> read, CompletableFuture<Void> write) {
    }

    private static void answer(HttpServletRequest request, HttpServletResponse response) {
        response.setHeader("Upgrade", "websocket");
        response.setHeader("Connection", "Upgrade");
        response.setHeader("Sec-WebSocket-Accept", UpstreamHandshake.accept(request.getHeader("Sec-WebSocket-Key")));
    }

    /** Reads, writes back what it read, reads again; records how it ended. */
    static final class Echo implements Wire.Completion<Integer> {
        final BrowserWires kind;
        final BrowserWire wire;
        final CompletableFuture<String> ended = new CompletableFuture<>();
        private final ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);

        Echo(BrowserWires kind, BrowserWire wire) {
            this.kind = kind;
            this.wire = wire;
        }

        void next() {
            buffer.clear();
            wire.read(buffer, this);
        }

        @Override
        public void completed(Integer count) {
            if (count < 0) {
                ended.complete("end of stream");
                wire.close();
                return;
            }
            buffer.flip();
            wire.write(new ByteBuffer[] {buffer}, new Wire.Completion<>() {
                @Override
                public void completed(Void result) {
                    LOOP.execute(Echo.this::next); // not on the stack of the read: the data may be long
                }

                @Override
                public void failed(Throwable cause) {
                    ended.complete("write failed: " + cause);
                }
            });
        }

        @Override
        public void failed(Throwable cause) {
            ended.complete("read failed: " + cause);
        }
    }

    @BeforeAll
    static void startServer() throws Exception {
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setIdleTimeout(CONNECTOR_IDLE_MS);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.addServlet(new ServletHolder(new EchoServlet()), "/echo");
        context.addServlet(new ServletHolder(new AbandonServlet()), "/abandon");
        server.setHandler(context);
        server.start();
        port = connector.getLocalPort();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.stop();
    }

    /** Sends the handshake with {@code early} in the same write; returns the socket once the 101 was read. */
    private static Socket handshake(String path, byte[] early) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT));
        byte[] head = ("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        byte[] all = Arrays.copyOf(head, head.length + early.length);
        System.arraycopy(early, 0, all, head.length, early.length);
        socket.getOutputStream().write(all);
        String answer = head(socket.getInputStream());
        assertTrue(answer.startsWith("HTTP/1.1 101 "), answer);
        assertTrue(answer.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), answer);
        return socket;
    }

    private static String head(InputStream in) throws IOException {
        StringBuilder text = new StringBuilder();
        while (!text.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new EOFException("closed after: " + text);
            }
            text.append((char) c);
        }
        return text.toString();
    }

    private static byte[] readExactly(InputStream in, int length) throws IOException {
        byte[] into = new byte[length];
        for (int got = 0; got < length; ) {
            int n = in.read(into, got, length - got);
            if (n < 0) {
                throw new EOFException("after " + got + " of " + length + " bytes");
            }
            got += n;
        }
        return into;
    }

    @Test
    void bytesSentWithTheHandshakeAreReadFirstThenTheRestIsEchoed() throws Exception {
        byte[] early = "sent-with-the-handshake".getBytes(StandardCharsets.US_ASCII);
        try (Socket socket = handshake("/echo", early)) {
            Echo echo = ECHOES.poll(WAIT, TimeUnit.SECONDS);
            assertSame(BrowserWires.JETTY, echo.kind, "embedded Jetty: the core upgrade");
            assertArrayEquals(early, readExactly(socket.getInputStream(), early.length));
            assertTrue(echo.wire.handedOver());

            byte[] bulk = new byte[4 << 20];
            new Random(3).nextBytes(bulk);
            CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                try {
                    return readExactly(socket.getInputStream(), bulk.length);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            socket.getOutputStream().write(bulk);
            assertArrayEquals(bulk, back.get(WAIT, TimeUnit.SECONDS), "4 MiB echoed in order");

            socket.shutdownOutput();
            assertEquals("end of stream", echo.ended.get(WAIT, TimeUnit.SECONDS));
            assertEquals(-1, socket.getInputStream().read(), "the wire closed the connection");
        }
    }

    @Test
    void theConnectorsIdleTimeoutNoLongerAppliesOnceHandedOver() throws Exception {
        try (Socket socket = handshake("/echo", new byte[0])) {
            Echo echo = ECHOES.poll(WAIT, TimeUnit.SECONDS);
            Thread.sleep(CONNECTOR_IDLE_MS * 4);
            assertFalse(echo.ended.isDone(), () -> "ended while idle: " + echo.ended.join());
            socket.getOutputStream().write("still here".getBytes(StandardCharsets.US_ASCII));
            assertEquals("still here", new String(readExactly(socket.getInputStream(), 10), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aBrowserThatGoesAwayEndsTheOutstandingRead() throws Exception {
        Socket socket = handshake("/echo", new byte[0]);
        Echo echo = ECHOES.poll(WAIT, TimeUnit.SECONDS);
        socket.close();
        String ended = echo.ended.get(WAIT, TimeUnit.SECONDS);
        assertTrue(ended.equals("end of stream") || ended.startsWith("read failed"), ended);
    }

    @Test
    void aWireClosedBeforeTheHandOverFailsWhatWaitedAndClosesTheConnection() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT));
            socket.getOutputStream().write(("GET /abandon HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            Abandoned abandoned = ABANDONED.poll(WAIT, TimeUnit.SECONDS);
            assertThrows(ExecutionException.class, () -> abandoned.read().get(WAIT, TimeUnit.SECONDS));
            assertThrows(ExecutionException.class, () -> abandoned.write().get(WAIT, TimeUnit.SECONDS));
            assertFalse(abandoned.wire().handedOver());
            byte[] rest = socket.getInputStream().readAllBytes();
            assertFalse(new String(rest, StandardCharsets.US_ASCII).contains("never"), "nothing written after the close");
        }
    }

    @Test
    void aRequestOfAnotherKindIsNotTakenOver() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT));
            // HTTP/1.0 cannot be upgraded: no wire, the servlet answers 501.
            socket.getOutputStream().write(("GET /echo HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            String answer = head(socket.getInputStream());
            assertTrue(answer.startsWith("HTTP/1.1 501 ") || answer.startsWith("HTTP/1.0 501 "), answer);
            assertNull(ECHOES.poll());
        }
    }
}

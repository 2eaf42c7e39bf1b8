package dev.ideproxy.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP front on a loopback port for a real Redis that drops connections the way a flapping network
 * or a restarting proxy does: the first {@code drops} connections that carry {@code command} (e.g.
 * {@code PING}) are closed, both sides, instead of passing it on. Everything else is relayed as is.
 */
final class DroppingFront implements AutoCloseable {
    private final ServerSocket server;
    private final int redisPort;
    private final byte[] command;
    private final AtomicInteger dropsLeft;
    private final AtomicInteger dropped = new AtomicInteger();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private DroppingFront(int redisPort, String command, int drops) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.redisPort = redisPort;
        this.command = ("\r\n" + command + "\r\n").getBytes(StandardCharsets.US_ASCII);
        this.dropsLeft = new AtomicInteger(drops);
        Thread acceptor = new Thread(this::accept, "dropping-front");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    static DroppingFront start(int redisPort, String command, int drops) throws IOException {
        return new DroppingFront(redisPort, command, drops);
    }

    /** {@code redis://[password@]127.0.0.1:port} of the front. */
    String uri(String password) {
        return "redis://" + (password == null ? "" : password + "@") + "127.0.0.1:" + server.getLocalPort();
    }

    /** How many connections were dropped so far. */
    int dropped() {
        return dropped.get();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket browser = server.accept();
                Socket redis = new Socket();
                redis.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), redisPort), 5000);
                sockets.add(browser);
                sockets.add(redis);
                pump(browser, redis, true);
                pump(redis, browser, false);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void pump(Socket from, Socket to, boolean inspect) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (inspect && contains(buffer, n, command) && dropsLeft.getAndDecrement() > 0) {
                        dropped.incrementAndGet();
                        return; // closes both, the command unsent
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // the other side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "dropping-front-pump");
        thread.setDaemon(true);
        thread.start();
    }

    private static boolean contains(byte[] buffer, int length, byte[] part) {
        outer:
        for (int i = 0; i + part.length <= length; i++) {
            for (int j = 0; j < part.length; j++) {
                if (buffer[i + j] != part[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        sockets.forEach(DroppingFront::closeQuietly);
    }
}

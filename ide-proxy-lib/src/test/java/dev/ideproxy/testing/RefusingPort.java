package dev.ideproxy.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A loopback port where connections are refused, held for the life of a test. A socket is bound to the
 * port and never listens: the kernel answers each connection attempt with a reset, and no server started
 * later (in this JVM or another) can be given the port. Closing a listener and keeping its number instead
 * is racy: the next server asking for an ephemeral port may get it, and the "unreachable" workspace
 * answers (CI saw a 404 from a Tomcat of the same test class).
 */
public final class RefusingPort implements AutoCloseable {
    private final Socket socket = new Socket();

    public RefusingPort() throws IOException {
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    public int port() {
        return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}

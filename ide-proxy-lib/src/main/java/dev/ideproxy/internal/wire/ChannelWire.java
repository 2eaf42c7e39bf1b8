package dev.ideproxy.internal.wire;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * The upstream side of a passthrough relay: a non-blocking {@link SocketChannel} served by one
 * {@link WireLoop}.
 *
 * <ul>
 *   <li>A write is tried at once on the calling thread; when the socket takes every byte (the usual
 *       case) it completes there, with no hand-off. Only a socket that is full waits for the loop.</li>
 *   <li>A read waits for the loop; its interest stays registered while the relay asks for the next
 *       read from inside the completion, so a steady stream costs no re-registration.</li>
 * </ul>
 *
 * <p>Thread-safe for one reader and one writer at a time, as {@link Wire} requires; {@link #close()}
 * from any thread fails what is outstanding.
 */
final class ChannelWire implements Wire {
    private final SocketChannel channel;
    private final WireLoop loop;
    // Guarded by this.
    private SelectionKey key;
    private ByteBuffer readBuffer;
    private Completion<Integer> reader;
    private ByteBuffer[] writeBuffers;
    private Completion<Void> writer;
    private Completion<Wire> connecting;
    private volatile boolean closed;

    private ChannelWire(SocketChannel channel, WireLoop loop) {
        this.channel = channel;
        this.loop = loop;
    }

    /**
     * Starts connecting to {@code address}; {@code connected} completes with the wire on the loop's
     * thread (or fails, also when the wire is closed first; the wire is then closed). The wire is returned at once, so that a timer can close it.
     */
    static ChannelWire connect(WireLoop loop, InetSocketAddress address, Completion<Wire> connected)
            throws IOException {
        SocketChannel channel = SocketChannel.open();
        ChannelWire wire = new ChannelWire(channel, loop);
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            boolean now = channel.connect(address);
            wire.connecting = connected; // not before: a connect refused at once is thrown, not failed twice
            loop.execute(() -> wire.register(now));
        } catch (IOException | RuntimeException e) {
            wire.close();
            throw e;
        }
        return wire;
    }

    private void register(boolean connectedNow) {
        Completion<Wire> done = null;
        boolean failed = false;
        synchronized (this) {
            if (closed) {
                return; // close() failed the connect
            }
            try {
                key = channel.register(loop.selector(), 0, this);
                if (connectedNow) {
                    done = connecting;
                    connecting = null;
                } else {
                    interest();
                }
            } catch (IOException | RuntimeException e) {
                failed = true;
            }
        }
        if (failed) {
            close(); // fails the connect
        } else if (done != null) {
            done.completed(this);
        }
    }

    @Override
    public void read(ByteBuffer buffer, Completion<Integer> done) {
        if (!parked(() -> {
            readBuffer = buffer;
            reader = done;
        })) {
            done.failed(new AsynchronousCloseException());
        }
    }

    @Override
    public void write(ByteBuffer[] buffers, Completion<Void> done) {
        if (closed) {
            done.failed(new AsynchronousCloseException());
            return;
        }
        writeSome(buffers, done);
    }

    /** Writes what the socket takes now; completes if that was all, else leaves the rest for the loop. */
    private void writeSome(ByteBuffer[] buffers, Completion<Void> done) {
        try {
            channel.write(buffers);
        } catch (IOException | RuntimeException e) {
            done.failed(e);
            return;
        }
        if (!hasRemaining(buffers)) {
            done.completed(null);
        } else if (!parked(() -> {
            writeBuffers = buffers;
            writer = done;
        })) {
            done.failed(new AsynchronousCloseException());
        }
    }

    /**
     * Leaves an operation outstanding ({@code store} sets its fields, under this wire's lock) until the
     * loop finds the socket ready, waking the loop if its interest changed; false once closed.
     */
    private boolean parked(Runnable store) {
        boolean changed;
        synchronized (this) {
            if (closed) {
                return false;
            }
            store.run();
            changed = interest();
        }
        if (changed && !loop.inLoop()) {
            loop.wakeup();
        }
        return true;
    }

    /** On the loop's thread: the socket is ready for what {@link #interest()} asked. */
    void ready(SelectionKey ready) {
        int ops = ready.readyOps();
        if ((ops & SelectionKey.OP_CONNECT) != 0) {
            connected();
        }
        if ((ops & SelectionKey.OP_READ) != 0) {
            readNow();
        }
        if ((ops & SelectionKey.OP_WRITE) != 0) {
            writeNow();
        }
        synchronized (this) {
            interest();
        }
    }

    private void connected() {
        Completion<Wire> done;
        synchronized (this) {
            done = connecting;
            connecting = null;
        }
        if (done == null) {
            return;
        }
        try {
            channel.finishConnect();
        } catch (IOException | RuntimeException e) {
            close();
            done.failed(e);
            return;
        }
        done.completed(this);
    }

    private void readNow() {
        ByteBuffer buffer;
        Completion<Integer> done;
        synchronized (this) {
            buffer = readBuffer;
            done = reader;
            readBuffer = null;
            reader = null;
        }
        if (done == null) {
            return;
        }
        int count;
        try {
            count = channel.read(buffer);
        } catch (IOException | RuntimeException e) {
            done.failed(e);
            return;
        }
        if (count != 0) {
            done.completed(count);
        } else {
            read(buffer, done); // nothing after all: wait again
        }
    }

    private void writeNow() {
        ByteBuffer[] buffers;
        Completion<Void> done;
        synchronized (this) {
            buffers = writeBuffers;
            done = writer;
            writeBuffers = null;
            writer = null;
        }
        if (done != null) {
            writeSome(buffers, done);
        }
    }

    /** Registers interest in exactly what is outstanding; true if it changed. Holds this. */
    private boolean interest() {
        if (key == null || !key.isValid()) {
            return false;
        }
        int ops = (reader != null ? SelectionKey.OP_READ : 0)
                | (writer != null ? SelectionKey.OP_WRITE : 0)
                | (connecting != null ? SelectionKey.OP_CONNECT : 0);
        if (key.interestOps() == ops) {
            return false;
        }
        key.interestOps(ops);
        return true;
    }

    private static boolean hasRemaining(ByteBuffer[] buffers) {
        for (ByteBuffer b : buffers) {
            if (b.hasRemaining()) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        Completion<Integer> r;
        Completion<Void> w;
        Completion<Wire> c;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            r = reader;
            w = writer;
            c = connecting;
            reader = null;
            writer = null;
            connecting = null;
            readBuffer = null;
            writeBuffers = null;
        }
        try {
            channel.close(); // shuts the output first when registered: the upstream reads its end at once
        } catch (IOException ignored) {
            // Closing: nothing left to do with it.
        }
        loop.wakeup(); // the selector releases the socket when it next runs
        AsynchronousCloseException closedException = new AsynchronousCloseException();
        if (c != null) {
            c.failed(closedException);
        }
        if (r != null) {
            r.failed(closedException);
        }
        if (w != null) {
            w.failed(closedException);
        }
    }

    @Override
    public String label() {
        return "upstream";
    }
}

package dev.ideproxy.internal.wire;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousSocketChannel;
import java.nio.channels.CompletionHandler;

/**
 * The upstream side of a passthrough relay: an {@link AsynchronousSocketChannel} of the shared
 * {@link UpstreamHandshake} channel group. Reads and writes complete on the group's threads (or the
 * calling one); a gathering write is repeated until every byte is taken.
 *
 * <p>Thread-safe for one reader and one writer at a time, as {@link Wire} requires.
 */
public final class SocketWire implements Wire {
    private final AsynchronousSocketChannel channel;

    SocketWire(AsynchronousSocketChannel channel) {
        this.channel = channel;
    }

    /** Starts connecting to {@code address} in {@code group}; {@code connected} completes with the wire. */
    static SocketWire connect(java.nio.channels.AsynchronousChannelGroup group, java.net.InetSocketAddress address,
                              Completion<Wire> connected) throws IOException {
        AsynchronousSocketChannel channel = AsynchronousSocketChannel.open(group);
        SocketWire wire = new SocketWire(channel);
        channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
        channel.connect(address, null, new CompletionHandler<Void, Void>() {
            @Override
            public void completed(Void v, Void a) {
                connected.completed(wire);
            }

            @Override
            public void failed(Throwable cause, Void a) {
                wire.close();
                connected.failed(cause);
            }
        });
        return wire;
    }

    @Override
    public void read(ByteBuffer buffer, Completion<Integer> done) {
        try {
            channel.read(buffer, done, READ);
        } catch (RuntimeException e) {
            done.failed(e);
        }
    }

    @Override
    public void write(ByteBuffer[] buffers, Completion<Void> done) {
        try {
            channel.write(buffers, 0, buffers.length, 0L, java.util.concurrent.TimeUnit.MILLISECONDS,
                    new Writing(buffers, done), WRITE);
        } catch (RuntimeException e) {
            done.failed(e);
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing: nothing left to do with it.
        }
    }

    @Override
    public String label() {
        return "upstream";
    }

    private static final CompletionHandler<Integer, Completion<Integer>> READ = new CompletionHandler<>() {
        @Override
        public void completed(Integer count, Completion<Integer> done) {
            done.completed(count);
        }

        @Override
        public void failed(Throwable cause, Completion<Integer> done) {
            done.failed(cause);
        }
    };

    private record Writing(ByteBuffer[] buffers, Completion<Void> done) {
        boolean finished() {
            for (ByteBuffer b : buffers) {
                if (b.hasRemaining()) {
                    return false;
                }
            }
            return true;
        }
    }

    private final CompletionHandler<Long, Writing> WRITE = new CompletionHandler<>() {
        @Override
        public void completed(Long written, Writing w) {
            if (w.finished()) {
                w.done().completed(null);
                return;
            }
            try {
                channel.write(w.buffers(), 0, w.buffers().length, 0L, java.util.concurrent.TimeUnit.MILLISECONDS,
                        w, this);
            } catch (RuntimeException e) {
                w.done().failed(e);
            }
        }

        @Override
        public void failed(Throwable cause, Writing w) {
            w.done().failed(cause);
        }
    };
}

package dev.ideproxy.internal.wire;

import java.nio.ByteBuffer;

/**
 * One side of a passthrough relay as a non-blocking byte connection. At most one read and one write
 * are outstanding at a time (the relay's pumps guarantee it); each completes exactly once, possibly
 * on the calling thread.
 *
 * <p>Implementations: {@link ChannelWire} (the upstream socket) and the {@link BrowserWire}s (the
 * browser's connection, taken over from the container).
 */
public interface Wire {

    /** How an operation ended. */
    interface Completion<T> {
        void completed(T result);

        void failed(Throwable cause);
    }

    /**
     * Reads at least one byte into {@code buffer} (a heap buffer, from its position to its limit) once
     * some are available, and completes with their count, or with -1 at the end of the stream.
     */
    void read(ByteBuffer buffer, Completion<Integer> done);

    /** Writes every remaining byte of {@code buffers}, in order, and completes once the last was taken. */
    void write(ByteBuffer[] buffers, Completion<Void> done);

    /** Closes the connection; outstanding operations fail or end. Idempotent. */
    void close();

    /** For logs: which side this is. */
    String label();
}

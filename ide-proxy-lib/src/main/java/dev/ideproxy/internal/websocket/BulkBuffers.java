package dev.ideproxy.internal.websocket;

import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;

/**
 * The large read buffers of passthrough relays, while they carry bulk data: direct, so that a socket
 * reads into them and writes from them without the JDK copying every piece through a temporary
 * direct buffer of its own; and reused, since allocating direct memory is slow and releasing it waits
 * for a garbage collection. Holds at most {@code kept} idle buffers; more are dropped.
 *
 * <p>A buffer is given back only by the one who knows that no read or write uses it any more (a
 * relay's pump, between two reads). A relay that ends with a read or write outstanding drops its
 * buffer instead: a connection being closed may still fill it, and a buffer reused by another
 * session must never receive this one's bytes. Thread-safe.
 */
final class BulkBuffers {
    private final int size;
    private final ArrayBlockingQueue<ByteBuffer> idle;

    BulkBuffers(int size, int kept) {
        this.size = size;
        this.idle = new ArrayBlockingQueue<>(kept);
    }

    /** A cleared buffer of {@code size} bytes. */
    ByteBuffer take() {
        ByteBuffer buffer = idle.poll();
        return buffer != null ? buffer.clear() : ByteBuffer.allocateDirect(size);
    }

    /**
     * Gives back a buffer from {@link #take()} that nothing reads into or writes from any more; any
     * other buffer is ignored.
     */
    void give(ByteBuffer buffer) {
        if (buffer.isDirect() && buffer.capacity() == size && !buffer.isReadOnly()) {
            idle.offer(buffer); // dropped when enough are kept
        }
    }

    /** Idle buffers kept now. */
    int idle() {
        return idle.size();
    }
}

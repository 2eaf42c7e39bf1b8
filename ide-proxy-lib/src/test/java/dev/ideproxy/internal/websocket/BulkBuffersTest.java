package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class BulkBuffersTest {
    @Test
    void takesDirectBuffersAndReusesTheOnesGivenBackCleared() {
        BulkBuffers buffers = new BulkBuffers(1024, 2);
        ByteBuffer first = buffers.take();
        assertTrue(first.isDirect());
        assertEquals(1024, first.capacity());
        first.put(new byte[100]).flip();

        buffers.give(first);
        assertEquals(1, buffers.idle());
        ByteBuffer again = buffers.take();
        assertSame(first, again);
        assertEquals(0, again.position());
        assertEquals(1024, again.limit());
        assertEquals(0, buffers.idle());
        assertNotSame(again, buffers.take(), "an empty pool allocates");
    }

    @Test
    void keepsAtMostItsLimitAndIgnoresBuffersItDidNotMake() {
        BulkBuffers buffers = new BulkBuffers(1024, 2);
        buffers.give(buffers.take());
        buffers.give(buffers.take());
        buffers.give(ByteBuffer.allocateDirect(1024));
        buffers.give(ByteBuffer.allocateDirect(1024));
        assertEquals(2, buffers.idle(), "dropped beyond the limit");

        BulkBuffers empty = new BulkBuffers(1024, 2);
        empty.give(ByteBuffer.allocate(1024));
        empty.give(ByteBuffer.allocateDirect(512));
        empty.give(ByteBuffer.allocateDirect(1024).asReadOnlyBuffer());
        assertEquals(0, empty.idle(), "heap, other sizes and read-only views are not kept");
    }
}

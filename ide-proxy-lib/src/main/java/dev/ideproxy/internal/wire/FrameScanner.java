package dev.ideproxy.internal.wire;

import java.nio.ByteBuffer;

/**
 * Finds the frames of one direction of a WebSocket byte stream (RFC 6455 section 5.2) without
 * copying or unmasking data: the passthrough relay forwards the bytes it is given, learns where each
 * frame starts (to count message sizes, and to insert its own frames only between frames), and
 * sees each control frame whole.
 *
 * <p>{@link #scan} takes whatever one read brought and reports, in stream order, runs of bytes to
 * pass on ({@link Sink#pass}: slices of the input, or a copy of a header that was split between two
 * reads), the start of each data frame ({@link Sink#dataFrame}, which decides whether the frame is
 * passed, skipped or ends the scan) and each control frame once all of it arrived
 * ({@link Sink#control}, with its payload unmasked and its raw bytes to pass on unchanged).
 *
 * <p>Checks only what framing needs: the masking the direction requires, control frames not
 * fragmented and at most 125 bytes, known opcodes, a 63-bit length. Extensions' RSV bits pass
 * untouched (extensions are negotiated end to end). Not thread-safe: one per direction, used by its pump.
 */
public final class FrameScanner {
    public static final int CONTINUATION = 0x0;
    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CLOSE = 0x8;
    public static final int PING = 0x9;
    public static final int PONG = 0xA;

    /** What a {@link Sink} decides about a data frame. */
    public enum Decision {
        /** Pass the frame on. */
        PASS,
        /** Consume it without passing it (the relay is closing). */
        SKIP,
        /** Stop scanning: the relay ends (e.g. a message over the limit). */
        STOP
    }

    /** Receives what {@link #scan} found, in stream order. */
    public interface Sink {
        /** Bytes to pass on unchanged. The buffer is only valid until the pass is written. */
        void pass(ByteBuffer bytes);

        /** A data frame begins (opcode {@link #TEXT}, {@link #BINARY} or {@link #CONTINUATION}). */
        Decision dataFrame(int opcode, boolean fin, long payloadLength);

        /**
         * A whole control frame: its opcode, its payload (unmasked, a copy) and the frame as received
         * (to pass on, or not). Returns false to stop scanning.
         */
        boolean control(int opcode, ByteBuffer payload, ByteBuffer raw);

        /** The stream broke the framing rules; scanning stops. */
        void protocolError(String why);
    }

    private static final int MAX_HEADER = 14;
    private static final int MAX_CONTROL_PAYLOAD = 125;

    private final boolean masked;
    /** Header bytes held across reads, when a header was split. */
    private final byte[] head = new byte[MAX_HEADER];
    private int headLength;
    /** Payload bytes of the current data frame still to come. */
    private long payloadLeft;
    private boolean skipping;
    /** The control frame being gathered (header and payload), and how many bytes it still needs. */
    private byte[] control;
    private int controlLength;
    private int controlNeeded;
    private int controlHeader;
    private boolean stopped;

    /** @param masked true for frames from a browser (which must be masked), false for frames from a server (never masked) */
    public FrameScanner(boolean masked) {
        this.masked = masked;
    }

    /** True when the bytes scanned so far end at a frame boundary. */
    public boolean atBoundary() {
        return payloadLeft == 0 && headLength == 0 && controlNeeded == 0 && control == null;
    }

    /** True once the sink stopped the scan or the stream broke the rules; nothing more is reported. */
    public boolean stopped() {
        return stopped;
    }

    /** Scans all of {@code in} (consumed up to its limit, or up to where the scan stopped). */
    public void scan(ByteBuffer in, Sink sink) {
        int runStart = -1;
        while (in.hasRemaining() && !stopped) {
            if (payloadLeft > 0) {
                int n = (int) Math.min(payloadLeft, in.remaining());
                if (!skipping && runStart < 0) {
                    runStart = in.position();
                }
                in.position(in.position() + n);
                payloadLeft -= n;
                continue;
            }
            if (control != null) {
                int n = Math.min(controlNeeded, in.remaining());
                in.get(control, controlLength, n);
                controlLength += n;
                controlNeeded -= n;
                if (controlNeeded == 0) {
                    deliverControl(sink);
                }
                continue;
            }
            // At a header: parse it in place when it is whole in this read, else gather it.
            int headerStart = in.position();
            int available = headLength > 0 ? -1 : headerLengthIn(in);
            if (available > 0) {
                int b0 = in.get(headerStart) & 0xFF;
                int b1 = in.get(headerStart + 1) & 0xFF;
                long length = payloadLength(in, headerStart, b1);
                if (!header(b0, b1, length, sink)) {
                    break;
                }
                if (isControl(b0)) {
                    runStart = flush(in, runStart, headerStart, sink);
                    startControl(available, (int) length);
                    in.get(control, 0, available);
                    controlLength = available;
                    if (controlNeeded == 0) {
                        deliverControl(sink);
                    }
                } else {
                    if (skipping) {
                        runStart = flush(in, runStart, headerStart, sink);
                    } else if (runStart < 0) {
                        runStart = headerStart;
                    }
                    in.position(headerStart + available);
                    payloadLeft = length;
                }
                continue;
            }
            // A split header: gather its bytes.
            runStart = flush(in, runStart, headerStart, sink);
            head[headLength++] = in.get();
            int needed = headLength >= 2 ? headerLength(head[1] & 0xFF) : MAX_HEADER;
            while (headLength < needed && in.hasRemaining()) {
                head[headLength++] = in.get();
                if (headLength == 2) {
                    needed = headerLength(head[1] & 0xFF);
                }
            }
            if (headLength < 2 || headLength < needed) {
                continue; // the rest comes with the next read
            }
            ByteBuffer held = ByteBuffer.wrap(head, 0, headLength);
            int b0 = head[0] & 0xFF;
            int b1 = head[1] & 0xFF;
            long length = payloadLength(held, 0, b1);
            int gathered = headLength;
            headLength = 0;
            if (!header(b0, b1, length, sink)) {
                break;
            }
            if (isControl(b0)) {
                startControl(gathered, (int) length);
                System.arraycopy(head, 0, control, 0, gathered);
                controlLength = gathered;
                if (controlNeeded == 0) {
                    deliverControl(sink);
                }
            } else {
                if (!skipping) {
                    byte[] copy = new byte[gathered];
                    System.arraycopy(head, 0, copy, 0, gathered);
                    sink.pass(ByteBuffer.wrap(copy));
                }
                payloadLeft = length;
            }
        }
        flush(in, runStart, in.position(), sink);
    }

    /** Passes the run of bytes from {@code runStart} to {@code end}, if any; returns -1 (no run). */
    private static int flush(ByteBuffer in, int runStart, int end, Sink sink) {
        if (runStart >= 0 && end > runStart) {
            sink.pass(in.duplicate().limit(end).position(runStart).slice());
        }
        return -1;
    }

    /** Checks a header and asks the sink about data frames; false when the scan stops. */
    private boolean header(int b0, int b1, long length, Sink sink) {
        if (length < 0) {
            stop(sink, "a frame length over 2^63");
            return false;
        }
        boolean frameMasked = (b1 & 0x80) != 0;
        if (frameMasked != masked) {
            stop(sink, masked ? "an unmasked frame from the client" : "a masked frame from the server");
            return false;
        }
        int opcode = b0 & 0x0F;
        boolean fin = (b0 & 0x80) != 0;
        if (isControl(b0)) {
            if (opcode != CLOSE && opcode != PING && opcode != PONG) {
                stop(sink, "unknown opcode " + opcode);
                return false;
            }
            if (!fin || length > MAX_CONTROL_PAYLOAD) {
                stop(sink, "a fragmented or oversized control frame");
                return false;
            }
            return true;
        }
        if (opcode > BINARY) {
            stop(sink, "unknown opcode " + opcode);
            return false;
        }
        Decision decision = sink.dataFrame(opcode, fin, length);
        if (decision == Decision.STOP) {
            stopped = true;
            return false;
        }
        skipping = decision == Decision.SKIP;
        return true;
    }

    private void startControl(int headerLength, int payload) {
        control = new byte[headerLength + payload];
        controlHeader = headerLength;
        controlNeeded = payload;
    }

    private void deliverControl(Sink sink) {
        byte[] frame = control;
        control = null;
        int opcode = frame[0] & 0x0F;
        byte[] payload = new byte[frame.length - controlHeader];
        System.arraycopy(frame, controlHeader, payload, 0, payload.length);
        if (masked) {
            int key = controlHeader - 4;
            for (int i = 0; i < payload.length; i++) {
                payload[i] ^= frame[key + (i & 3)];
            }
        }
        if (!sink.control(opcode, ByteBuffer.wrap(payload), ByteBuffer.wrap(frame))) {
            stopped = true;
        }
    }

    private void stop(Sink sink, String why) {
        stopped = true;
        sink.protocolError(why);
    }

    private static boolean isControl(int b0) {
        return (b0 & 0x08) != 0;
    }

    /** Header length given the second byte. */
    private static int headerLength(int b1) {
        int code = b1 & 0x7F;
        int length = 2 + (code == 126 ? 2 : code == 127 ? 8 : 0);
        return (b1 & 0x80) != 0 ? length + 4 : length;
    }

    /** The length of the header starting at the input's position when all of it is there, else -1. */
    private static int headerLengthIn(ByteBuffer in) {
        if (in.remaining() < 2) {
            return -1;
        }
        int length = headerLength(in.get(in.position() + 1) & 0xFF);
        return in.remaining() >= length ? length : -1;
    }

    /** The payload length of the header at {@code start}; -1 when its top bit is set. */
    private static long payloadLength(ByteBuffer b, int start, int b1) {
        int code = b1 & 0x7F;
        if (code == 126) {
            return ((b.get(start + 2) & 0xFF) << 8) | (b.get(start + 3) & 0xFF);
        }
        if (code == 127) {
            return b.getLong(start + 2);
        }
        return code;
    }
}

package dev.ideproxy.internal.wire;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The frames the passthrough relay writes itself (keep-alive pings and close frames), and the
 * reading of a close frame's payload. Frames to a browser are unmasked; frames to an upstream are
 * masked with a fresh random key, as a client's must be (RFC 6455 section 5.3).
 *
 * <p>Stateless and thread-safe.
 */
public final class Frames {
    /** The close code of a close frame without one (RFC 6455 section 7.1.5). */
    public static final int NO_STATUS = 1005;

    private Frames() {
    }

    /** A ping carrying {@code payload} (at most 125 bytes). */
    public static ByteBuffer ping(byte[] payload, boolean masked) {
        return frame(FrameScanner.PING, payload, masked);
    }

    /** A close frame with {@code code} and {@code reason} (cut to fit 123 bytes of UTF-8 by the caller). */
    public static ByteBuffer close(int code, String reason, boolean masked) {
        byte[] text = reason == null ? new byte[0] : reason.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(text.length, 123);
        byte[] payload = new byte[2 + length];
        payload[0] = (byte) (code >> 8);
        payload[1] = (byte) code;
        System.arraycopy(text, 0, payload, 2, length);
        return frame(FrameScanner.CLOSE, payload, masked);
    }

    /** The code of a close frame's (unmasked) payload, {@link #NO_STATUS} when it has none. */
    public static int closeCode(ByteBuffer payload) {
        if (payload.remaining() < 2) {
            return NO_STATUS;
        }
        return ((payload.get(payload.position()) & 0xFF) << 8) | (payload.get(payload.position() + 1) & 0xFF);
    }

    /** The reason of a close frame's (unmasked) payload, empty when it has none. */
    public static String closeReason(ByteBuffer payload) {
        if (payload.remaining() <= 2) {
            return "";
        }
        ByteBuffer text = payload.duplicate();
        text.position(text.position() + 2);
        return StandardCharsets.UTF_8.decode(text).toString();
    }

    private static ByteBuffer frame(int opcode, byte[] payload, boolean masked) {
        if (payload.length > 125) {
            throw new IllegalArgumentException("a control frame carries at most 125 bytes");
        }
        ByteBuffer frame = ByteBuffer.allocate(2 + (masked ? 4 : 0) + payload.length);
        frame.put((byte) (0x80 | opcode));
        frame.put((byte) ((masked ? 0x80 : 0) | payload.length));
        if (masked) {
            byte[] key = new byte[4];
            ThreadLocalRandom.current().nextBytes(key);
            frame.put(key);
            for (int i = 0; i < payload.length; i++) {
                frame.put((byte) (payload[i] ^ key[i & 3]));
            }
        } else {
            frame.put(payload);
        }
        return frame.flip();
    }
}

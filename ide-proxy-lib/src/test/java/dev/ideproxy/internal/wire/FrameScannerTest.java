package dev.ideproxy.internal.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The scanner against streams of frames of every length class (7-bit, 16-bit and 64-bit lengths,
 * their edges, empty ones), masked and not, with control frames between them, cut into reads at
 * random places (down to one byte): every byte is passed on, in order, each frame is reported once
 * with its length, control payloads are unmasked, and boundaries are where the frames end.
 */
class FrameScannerTest {
    private static final int[] LENGTHS = {0, 1, 125, 126, 127, 65535, 65536, 70000};

    private record Frame(int opcode, boolean fin, byte[] payload) {
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void passesEveryByteAndReportsEveryFrameWhereverTheReadsAreCut(boolean masked) {
        for (long seed = 1; seed <= 40; seed++) {
            Random random = new Random(seed);
            List<Frame> frames = new ArrayList<>();
            ByteArrayOutputStream wire = new ByteArrayOutputStream();
            for (int i = 0; i < 30; i++) {
                Frame f = random.nextInt(4) == 0
                        ? new Frame(random.nextBoolean() ? FrameScanner.PING : FrameScanner.PONG, true, bytes(random, random.nextInt(126)))
                        : new Frame(random.nextBoolean() ? FrameScanner.TEXT : FrameScanner.BINARY, true,
                                bytes(random, LENGTHS[random.nextInt(LENGTHS.length)]));
                frames.add(f);
                wire.writeBytes(encode(f, masked, random));
            }
            byte[] all = wire.toByteArray();
            FrameScanner scanner = new FrameScanner(masked);
            Recorder sink = new Recorder();
            int at = 0;
            int maxRead = random.nextBoolean() ? 7 : 20_000;
            while (at < all.length) {
                int n = Math.min(all.length - at, 1 + random.nextInt(maxRead));
                scanner.scan(ByteBuffer.wrap(all, at, n).slice(), sink);
                at += n;
                assertFalse(scanner.stopped(), "seed " + seed);
            }
            assertTrue(scanner.atBoundary());
            assertArrayEquals(all, sink.passed.toByteArray(), "seed " + seed);
            assertEquals(frames.size(), sink.frames.size(), "seed " + seed);
            for (int i = 0; i < frames.size(); i++) {
                Frame want = frames.get(i);
                Frame got = sink.frames.get(i);
                assertEquals(want.opcode(), got.opcode(), "seed " + seed + " frame " + i);
                assertEquals(want.payload().length, got.payload().length, "seed " + seed + " frame " + i);
                if (want.opcode() >= 8) {
                    assertArrayEquals(want.payload(), got.payload(), "control payload unmasked");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void refusesTheWrongMasking(boolean masked) {
        FrameScanner scanner = new FrameScanner(masked);
        Recorder sink = new Recorder();
        scanner.scan(ByteBuffer.wrap(encode(new Frame(FrameScanner.TEXT, true, new byte[3]), !masked, new Random(1))), sink);
        assertTrue(scanner.stopped());
        assertEquals(1, sink.errors.size());
    }

    private static byte[] bytes(Random random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    static byte[] encode(Frame f, boolean masked, Random random) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n = f.payload().length;
        out.write((f.fin() ? 0x80 : 0) | f.opcode());
        int m = masked ? 0x80 : 0;
        if (n < 126) {
            out.write(m | n);
        } else if (n < 65536) {
            out.write(m | 126);
            out.write(n >> 8);
            out.write(n);
        } else {
            out.write(m | 127);
            out.writeBytes(ByteBuffer.allocate(8).putLong(n).array());
        }
        byte[] payload = f.payload().clone();
        if (masked) {
            byte[] key = bytes(random, 4);
            out.writeBytes(key);
            for (int i = 0; i < n; i++) {
                payload[i] ^= key[i & 3];
            }
        }
        out.writeBytes(payload);
        return out.toByteArray();
    }

    /** Passes everything on, records frames (data frames with a payload of their length). */
    private static final class Recorder implements FrameScanner.Sink {
        final ByteArrayOutputStream passed = new ByteArrayOutputStream();
        final List<Frame> frames = new ArrayList<>();
        final List<String> errors = new ArrayList<>();

        @Override
        public void pass(ByteBuffer bytes) {
            byte[] b = new byte[bytes.remaining()];
            bytes.get(b);
            passed.writeBytes(b);
        }

        @Override
        public FrameScanner.Decision dataFrame(int opcode, boolean fin, long payloadLength) {
            frames.add(new Frame(opcode, fin, new byte[(int) payloadLength]));
            return FrameScanner.Decision.PASS;
        }

        @Override
        public boolean control(int opcode, ByteBuffer payload, ByteBuffer raw) {
            byte[] p = new byte[payload.remaining()];
            payload.get(p);
            frames.add(new Frame(opcode, true, p));
            pass(raw);
            return true;
        }

        @Override
        public void protocolError(String why) {
            errors.add(why);
        }
    }
}

package dev.ideproxy.internal.websocket;

/**
 * Counts the bytes of the message under way in one direction of a relay against
 * {@code websocket.max-message-size}. The containers do not enforce a limit on messages taken in
 * parts, so the relay does, part by part, without holding the message.
 *
 * <p>Not thread-safe: each instance is confined to the event sequence of one side.
 */
final class MessageLimit {
    private final long max;
    private long bytes;

    MessageLimit(long max) {
        this.max = max;
    }

    /**
     * Adds a part of {@code partBytes} bytes; {@code last} ends the message.
     *
     * @return the message's size so far when it exceeds the limit, else -1
     */
    long exceededBy(long partBytes, boolean last) {
        long total = bytes + partBytes;
        bytes = last ? 0 : total;
        return total > max ? total : -1;
    }

    /** Bytes of {@code s} in UTF-8, without encoding it. */
    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n += 1;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isSurrogate(c)) {
                n += 2; // a pair is 4 bytes in all
            } else {
                n += 3;
            }
        }
        return n;
    }
}

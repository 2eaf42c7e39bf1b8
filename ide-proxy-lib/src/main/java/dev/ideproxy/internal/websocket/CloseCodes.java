package dev.ideproxy.internal.websocket;

import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.websocket.core.CloseStatus;

/**
 * Which close code and reason one side of a relay receives when the other side closed with a given
 * code (RFC 6455 section 7.4). Codes that may be sent pass unchanged, application codes included
 * (an upstream 4001 reaches the browser as 4001); the codes that only report a local condition and
 * must never be sent are mapped: 1005 (no status) becomes 1000, 1006 (connection lost) and 1015
 * (TLS failure) become 1011, and any other unsendable code becomes 1011.
 *
 * <p>Stateless and thread-safe.
 */
final class CloseCodes {
    static final int NORMAL = CloseStatus.NORMAL;
    static final int GOING_AWAY = CloseStatus.SHUTDOWN;
    static final int NO_STATUS = CloseStatus.NO_CODE;
    static final int ABNORMAL = CloseStatus.NO_CLOSE;
    static final int POLICY = CloseStatus.POLICY_VIOLATION;
    static final int PROTOCOL = CloseStatus.PROTOCOL;
    static final int TOO_BIG = CloseStatus.MESSAGE_TOO_LARGE;
    /** The proxy is restarting (a drain): browsers and IDEs reconnect, to another node where there is one. */
    static final int SERVICE_RESTART = CloseStatus.SERVICE_RESTART;
    static final int UNEXPECTED = CloseStatus.SERVER_ERROR;
    static final int TLS = CloseStatus.FAILED_TLS_HANDSHAKE;

    /** Longest close reason in UTF-8 bytes: a control frame carries 125 bytes, two of them the code. */
    static final int MAX_REASON_BYTES = 123;

    private CloseCodes() {
    }

    /** The code to send to the other side after one side closed with {@code code}. */
    static int forward(int code) {
        if (code == NO_STATUS) {
            return NORMAL;
        }
        return sendable(code) ? code : UNEXPECTED;
    }

    /** The reason to send with {@link #forward(int)}: the original one, or a short explanation. */
    static String forwardReason(int code, String reason, String lostWhat) {
        if (code == ABNORMAL || code == TLS) {
            return lostWhat;
        }
        return reason == null ? "" : truncate(reason);
    }

    /** True for the codes an endpoint may put in a close frame. */
    static boolean sendable(int code) {
        return CloseStatus.isTransmittableStatusCode(code);
    }

    /** {@code reason} cut to {@link #MAX_REASON_BYTES} bytes of UTF-8 without splitting a character. */
    static String truncate(String reason) {
        byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_REASON_BYTES) {
            return reason;
        }
        int end = reason.length();
        while (end > 0 && reason.substring(0, end).getBytes(StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
            end--;
            if (end > 0 && Character.isLowSurrogate(reason.charAt(end))) {
                end--;
            }
        }
        return reason.substring(0, end);
    }
}

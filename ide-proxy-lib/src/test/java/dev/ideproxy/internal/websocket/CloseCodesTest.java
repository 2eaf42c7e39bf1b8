package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CloseCodesTest {

    @Test
    void sendableCodesPassUnchanged() {
        for (int code : new int[] {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4001, 4999}) {
            assertEquals(code, CloseCodes.forward(code), String.valueOf(code));
        }
    }

    @Test
    void codesThatMustNotBeSentAreMapped() {
        assertEquals(1000, CloseCodes.forward(1005), "no status: a normal close");
        assertEquals(1011, CloseCodes.forward(1006), "connection lost: the other side failed");
        assertEquals(1011, CloseCodes.forward(1015), "TLS failure");
        assertEquals(1011, CloseCodes.forward(1004));
        assertEquals(1011, CloseCodes.forward(999));
        assertEquals(1011, CloseCodes.forward(2999));
        assertEquals(1011, CloseCodes.forward(5000));
    }

    @Test
    void reasonsAreKeptOrExplained() {
        assertEquals("bye", CloseCodes.forwardReason(4001, "bye", "upstream connection lost"));
        assertEquals("", CloseCodes.forwardReason(1000, null, "upstream connection lost"));
        assertEquals("upstream connection lost", CloseCodes.forwardReason(1006, "", "upstream connection lost"));
    }

    @Test
    void longReasonsAreCutToFitAControlFrameWithoutSplittingACharacter() {
        String reason = "€".repeat(60); // 180 bytes
        String cut = CloseCodes.truncate(reason);
        assertTrue(cut.getBytes(StandardCharsets.UTF_8).length <= CloseCodes.MAX_REASON_BYTES);
        assertEquals("€".repeat(41), cut);
        String emoji = "a" + "😀".repeat(40);
        String cutEmoji = CloseCodes.truncate(emoji);
        assertTrue(cutEmoji.getBytes(StandardCharsets.UTF_8).length <= CloseCodes.MAX_REASON_BYTES);
        assertTrue(Character.isHighSurrogate(cutEmoji.charAt(cutEmoji.length() - 2)), "ends on a whole pair");
        assertEquals("short", CloseCodes.truncate("short"));
    }
}

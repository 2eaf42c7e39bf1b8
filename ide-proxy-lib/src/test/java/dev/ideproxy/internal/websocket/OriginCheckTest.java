package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The cross-site WebSocket hijacking check on its own; the containers' tests cover it end to end. */
class OriginCheckTest {
    private final OriginCheck check = new OriginCheck(List.of("https://Portal.Example/", "http://tools.example:8443"), true);

    @Test
    void theRequestsOwnHostIsAllowedWhateverTheCaseAndDefaultPort() {
        assertTrue(check.allows("http://ide.example.com", "ide.example.com"));
        assertTrue(check.allows("https://IDE.example.com", "ide.example.com:443"));
        assertTrue(check.allows("http://ide.example.com:80", "ide.example.com"));
        assertTrue(check.allows("http://10.0.0.5:8080", "10.0.0.5:8080"));
        assertTrue(check.allows("http://[::1]:8080", "[::1]:8080"));
    }

    @Test
    void anotherHostOrPortIsRefused() {
        assertFalse(check.allows("https://evil.example", "ide.example.com"));
        assertFalse(check.allows("http://ide.example.com:8081", "ide.example.com:8080"));
        assertFalse(check.allows("http://ide.example.com", "ide.example.com:8080"));
        assertFalse(check.allows("http://ide.example.com.evil.example", "ide.example.com"));
        assertFalse(check.allows("http://evil.example", null));
    }

    @Test
    void malformedAndOpaqueOriginsAreRefused() {
        assertFalse(check.allows("null", "null"));
        assertFalse(check.allows("ide.example.com", "ide.example.com"));
        assertFalse(check.allows("http://user@ide.example.com", "ide.example.com"));
        assertFalse(check.allows("http://ide.example.com/path", "ide.example.com"));
        assertFalse(check.allows("http://ide.example.com/?q", "ide.example.com"));
        assertFalse(check.allows("http://ide example", "ide example"));
    }

    @Test
    void configuredOriginsAreAllowedExactly() {
        assertTrue(check.allows("https://portal.example", "ide.example.com"));
        assertTrue(check.allows("HTTPS://PORTAL.EXAMPLE:443", "ide.example.com"));
        assertTrue(check.allows("http://tools.example:8443", "ide.example.com"));
        assertFalse(check.allows("http://portal.example", "ide.example.com"), "scheme is part of an origin");
        assertFalse(check.allows("http://tools.example", "ide.example.com"), "port is part of an origin");
    }

    @Test
    void aMissingOriginIsAllowedOnlyWhenConfigured() {
        assertTrue(check.allows(null, "ide.example.com"));
        assertTrue(check.allows(" ", "ide.example.com"));
        OriginCheck strict = new OriginCheck(List.of(), false);
        assertFalse(strict.allows(null, "ide.example.com"));
        assertTrue(strict.allows("http://ide.example.com", "ide.example.com"));
    }

    @Test
    void normalisedFormsAndInvalidConfiguredOrigins() {
        assertEquals("https://portal.example", OriginCheck.normalise("HTTPS://Portal.Example:443/"));
        assertEquals("http://portal.example:8080", OriginCheck.normalise("http://portal.example:8080"));
        assertNull(OriginCheck.normalise("portal.example"));
        OriginCheck ignoresGarbage = new OriginCheck(List.of("not an origin"), false);
        assertFalse(ignoresGarbage.allows("http://evil.example", "ide.example.com"));
    }
}

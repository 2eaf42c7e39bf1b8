package dev.ideproxy.internal.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import jakarta.servlet.http.HttpServletRequest;
import org.junit.jupiter.api.Test;

class LogSafeTest {
    @Test
    void redactsTokenLikeQueryParameters() {
        assertEquals("token=<redacted>&path=/x", LogSafe.redactQuery("token=eyJabc.def.ghi&path=/x"));
        assertEquals("a=1&reconnectionToken=<redacted>&b", LogSafe.redactQuery("a=1&reconnectionToken=s3cr3t&b"));
        assertEquals("%74oken=<redacted>", LogSafe.redactQuery("%74oken=eyJ"), "the container decodes names too");
        assertEquals("access_token=<redacted>&password=<redacted>&folder=/home",
                LogSafe.redactQuery("access_token=x&password=y&folder=/home"));
    }

    @Test
    void redactsInsideFreeText() {
        String text = "42 rewriting: http://h/portal/api/dev/a/ide?token=eyJ.x.y&path=%2F -> http://u:1/x?tkn=1&sig=abc";
        String out = LogSafe.redactUrls(text);
        assertFalse(out.contains("eyJ.x.y"), out);
        assertFalse(out.contains("sig=abc"), out);
        assertTrue(out.contains("token=<redacted>"), out);
        assertTrue(out.contains("path=%2F"), out);
    }

    @Test
    void uriOfARequestIsRedactedAndEscaped() {
        HttpServletRequest request = mock(HttpServletRequest.class);
        when(request.getRequestURI()).thenReturn("/portal/api/dev/a/ide\r\nFAKE LOG LINE");
        when(request.getQueryString()).thenReturn("token=eyJsecret");
        String out = LogSafe.uri(request);
        assertEquals("/portal/api/dev/a/ide\\u000d\\u000aFAKE LOG LINE?token=<redacted>", out);
        assertTrue(LogSafe.clean("x".repeat(1000)).length() <= LogSafe.MAX_CHARS + 3);
    }
}

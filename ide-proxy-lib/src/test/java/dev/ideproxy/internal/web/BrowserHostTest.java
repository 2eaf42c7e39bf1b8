package dev.ideproxy.internal.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import jakarta.servlet.http.HttpServletRequest;
import org.junit.jupiter.api.Test;

/**
 * {@link BrowserHost} for the requests a test server cannot be made to receive (HTTPS on port 443, a
 * browser's HTTP/2 over IPv6). Http2BrowserTest covers HTTP/2 end to end on both containers.
 */
class BrowserHostTest {

    private static HttpServletRequest request(String protocol, String host, String scheme, String serverName, int port) {
        HttpServletRequest request = mock(HttpServletRequest.class);
        when(request.getProtocol()).thenReturn(protocol);
        when(request.getHeader("Host")).thenReturn(host);
        when(request.getScheme()).thenReturn(scheme);
        when(request.getServerName()).thenReturn(serverName);
        when(request.getServerPort()).thenReturn(port);
        return request;
    }

    @Test
    void http11KeepsTheHostHeaderAsSentAndNeverInventsOne() {
        assertEquals("Portal.Example:8443", BrowserHost.of(request("HTTP/1.1", "Portal.Example:8443", "https", "other", 1)));
        assertNull(BrowserHost.of(request("HTTP/1.1", null, "http", "from-forwarded-headers", 80)));
        assertNull(BrowserHost.of(request("HTTP/1.0", null, "http", "localhost", 80)));
    }

    @Test
    void http2TakesTheAuthorityFromTheServerNameAndPortLeavingOutTheSchemesDefault() {
        assertEquals("ide.example", BrowserHost.of(request("HTTP/2.0", null, "https", "ide.example", 443)));
        assertEquals("ide.example:8443", BrowserHost.of(request("HTTP/2.0", null, "https", "ide.example", 8443)));
        assertEquals("ide.example", BrowserHost.of(request("HTTP/2.0", null, "http", "ide.example", 80)));
        assertEquals("ide.example:443", BrowserHost.of(request("HTTP/2.0", null, "http", "ide.example", 443)));
        assertEquals("[::1]:8443", BrowserHost.of(request("HTTP/2.0", null, "https", "::1", 8443)));
        assertEquals("[::1]:8443", BrowserHost.of(request("HTTP/2.0", null, "https", "[::1]", 8443)));
        assertNull(BrowserHost.of(request("HTTP/2.0", null, "https", "", 443)));
    }

    @Test
    void http2WithAHostHeaderKeepsIt() {
        assertEquals("ide.example", BrowserHost.of(request("HTTP/2.0", "ide.example", "https", "elsewhere", 8443)));
    }
}

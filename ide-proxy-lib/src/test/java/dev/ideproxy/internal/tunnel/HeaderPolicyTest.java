package dev.ideproxy.internal.tunnel;

import dev.ideproxy.internal.web.TrustedProxies;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.ideproxy.target.Target;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The header policy on requests the containers cannot be made to send, and the trusted-proxy list. */
class HeaderPolicyTest {

    static HttpServletRequest request(String remote, String scheme, String... nameValues) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            headers.computeIfAbsent(nameValues[i], k -> new ArrayList<>()).add(nameValues[i + 1]);
        }
        HttpServletRequest request = mock(HttpServletRequest.class);
        when(request.getRemoteAddr()).thenReturn(remote);
        when(request.getScheme()).thenReturn(scheme);
        when(request.getHeaderNames()).thenAnswer(i -> Collections.enumeration(headers.keySet()));
        when(request.getHeaders(org.mockito.ArgumentMatchers.anyString())).thenAnswer(i -> {
            String name = i.getArgument(0);
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return Collections.enumeration(e.getValue());
                }
            }
            return Collections.emptyEnumeration();
        });
        when(request.getHeader(org.mockito.ArgumentMatchers.anyString())).thenAnswer(i -> {
            String name = i.getArgument(0);
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        });
        return request;
    }

    static Map<String, String> upstream(HeaderPolicy policy, HttpServletRequest request, Set<String> skip) {
        Map<String, String> out = new LinkedHashMap<>();
        policy.forEachUpstreamHeader(request, skip, (n, v) -> out.merge(n.toLowerCase(), v, (a, b) -> a + " | " + b));
        return out;
    }

    static final String[] HOSTILE = {
        "Host", "ide.example",
        "Authorization", "Basic cG9ydGFsOnNlY3JldA==",
        "Proxy-Authorization", "Basic eDp5",
        "X-Forwarded-For", "6.6.6.6",
        "X-Forwarded-Host", "evil.example",
        "X-Forwarded-Proto", "https",
        "Forwarded", "for=6.6.6.6;host=evil.example",
        "X-Real-IP", "6.6.6.6",
        "True-Client-IP", "6.6.6.6",
        "X-Original-URL", "/admin",
        "Connection", "keep-alive, X-Secret, Host",
        "X-Secret", "hop",
        "Upgrade", "websocket",
        "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==",
        "Cookie", "ide_proxy_session=abc; theme=dark",
        "Origin", "http://ide.example",
    };

    @Test
    void untrustedClientLosesCredentialsForwardingAndHopByHopHeaders() {
        HeaderPolicy policy = new HeaderPolicy("ide_proxy_session", true);
        // The WebSocket connector passes its own handshake headers as "skip".
        Map<String, String> out = upstream(policy, request("203.0.113.9", "http", HOSTILE), Set.of("sec-websocket-key"));
        assertNull(out.get("authorization"));
        assertNull(out.get("proxy-authorization"));
        assertNull(out.get("forwarded"));
        assertNull(out.get("x-real-ip"));
        assertNull(out.get("true-client-ip"));
        assertNull(out.get("x-original-url"));
        assertNull(out.get("x-secret"), "named in Connection");
        assertNull(out.get("connection"));
        assertNull(out.get("upgrade"));
        assertNull(out.get("sec-websocket-key"));
        assertEquals("ide.example", out.get("host"), "Host is kept even when Connection names it");
        assertEquals("theme=dark", out.get("cookie"));
        assertEquals("http://ide.example", out.get("origin"));
        assertEquals("203.0.113.9", out.get("x-forwarded-for"));
        assertEquals("http", out.get("x-forwarded-proto"));
        assertEquals("ide.example", out.get("x-forwarded-host"));
    }

    @Test
    void trustedProxyChainIsKeptAndExtended() {
        HeaderPolicy policy = new HeaderPolicy("ide_proxy_session", true, TrustedProxies.of(List.of("10.0.0.0/8")));
        Map<String, String> out = upstream(policy, request("10.1.2.3", "http",
                "Host", "ide.internal:8000", "X-Forwarded-For", "198.51.100.7, 10.9.9.9", "X-Forwarded-Proto", "https",
                "X-Forwarded-Host", "ide.example", "Forwarded", "for=198.51.100.7;proto=https;host=ide.example",
                "X-Real-IP", "198.51.100.7", "Authorization", "Bearer portal"), Set.of());
        assertEquals("198.51.100.7, 10.9.9.9, 10.1.2.3", out.get("x-forwarded-for"));
        assertEquals("https", out.get("x-forwarded-proto"));
        assertEquals("ide.example", out.get("x-forwarded-host"));
        assertEquals("for=198.51.100.7;proto=https;host=ide.example, for=\"10.1.2.3\";proto=http;host=\"ide.internal:8000\"",
                out.get("forwarded"));
        assertEquals("198.51.100.7", out.get("x-real-ip"));
        assertNull(out.get("authorization"), "credentials never pass, trusted proxy or not");
        assertTrue(policy.trusts("10.255.0.1"));
        assertFalse(policy.trusts("11.0.0.1"));
    }

    @Test
    void trustedProxyWithoutHeadersGetsTheProxysOwnView() {
        HeaderPolicy policy = new HeaderPolicy("c", true, TrustedProxies.of(List.of("127.0.0.1")));
        Map<String, String> out = upstream(policy, request("127.0.0.1", "http", "Host", "h:1"), Set.of());
        assertEquals("127.0.0.1", out.get("x-forwarded-for"));
        assertEquals("http", out.get("x-forwarded-proto"));
        assertEquals("h:1", out.get("x-forwarded-host"));
        assertNull(out.get("forwarded"), "no Forwarded chain is started");
    }

    @Test
    void trustedProxiesParsing() {
        TrustedProxies t = TrustedProxies.of(List.of("192.168.1.5", "10.0.0.0/8", "fd00::/8", "::1", "172.16.0.0/12"));
        assertTrue(t.trusts("192.168.1.5"));
        assertFalse(t.trusts("192.168.1.6"));
        assertTrue(t.trusts("10.200.3.4"));
        assertTrue(t.trusts("fd12:3456::1"));
        assertTrue(t.trusts("0:0:0:0:0:0:0:1"));
        assertTrue(t.trusts("[::1]"));
        assertTrue(t.trusts("172.31.255.255"));
        assertFalse(t.trusts("172.32.0.0"));
        assertFalse(t.trusts("fe80::1"));
        assertFalse(t.trusts("not-an-address"));
        assertFalse(t.trusts(null));
        assertTrue(TrustedProxies.of(List.of("::ffff:10.0.0.1")).trusts("10.0.0.1"), "IPv4-mapped is IPv4");
        for (String bad : List.of("localhost", "proxy.internal", "10.0.0.0/33", "10.0.0.0/x", "1.2.3", "::1/129", "")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrustedProxies.of(List.of(bad)));
            assertTrue(e.getMessage().contains(bad), e.getMessage());
        }
        assertFalse(TrustedProxies.NONE.trusts("127.0.0.1"));
    }

    @Test
    void responseDirection() {
        HeaderPolicy policy = new HeaderPolicy("ide_proxy_session", true);
        Set<String> named = HeaderPolicy.connectionNamed(List.of("close, X-Hop", "Keep-Alive"));
        assertEquals(Set.of("close", "x-hop", "keep-alive"), named);
        assertTrue(policy.dropsResponseHeader("x-hop", named));
        assertTrue(policy.dropsResponseHeader("transfer-encoding", Set.of()));
        assertTrue(policy.dropsResponseHeader("clear-site-data", Set.of()));
        assertFalse(policy.dropsResponseHeader("content-type", named));
        TunnelRequest tunnel = new TunnelRequest("a", "alice", Target.of("a", "http://10.0.0.5:8080"),
                "/portal/__ide/a/", "/", null);
        assertEquals("/portal/__ide/a/", policy.rewriteServiceWorkerAllowed(tunnel, "/"));
        assertEquals("/portal/__ide/a/static/", policy.rewriteServiceWorkerAllowed(tunnel, "/static/"));
        assertNull(policy.rewriteServiceWorkerAllowed(tunnel, "../../../"));
        assertNull(policy.rewriteServiceWorkerAllowed(tunnel, "/../../"));
        assertNull(policy.rewriteServiceWorkerAllowed(tunnel, "//evil.example/"));
        assertNull(policy.rewriteServiceWorkerAllowed(tunnel, "https://evil.example/"));
    }
}

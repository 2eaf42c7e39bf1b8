package dev.ideproxy.internal.tunnel;

import dev.ideproxy.internal.web.BrowserHost;
import dev.ideproxy.internal.web.TrustedProxies;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Which headers cross the tunnel, in both directions, for HTTP and WebSocket alike, so the two paths
 * cannot drift apart.
 *
 * <p>Towards the upstream: the browser's {@code Host} unchanged; {@code Origin} only when the browser
 * sent one; {@code Cookie} without the proxy's own session cookie; {@code Authorization} and
 * {@code Proxy-Authorization} never (in path mode the browser sends the portal's credentials to every
 * path of its origin); hop-by-hop headers and those named in {@code Connection} removed. Forwarding
 * headers ({@code X-Forwarded-*}, {@code Forwarded}, {@code X-Real-IP} and kin) from a client that is
 * not a {@link TrustedProxies trusted proxy} are dropped and {@code X-Forwarded-For/Proto/Host} set
 * from what the proxy knows; a trusted proxy's chain is kept and extended with its own address.
 *
 * <p>Towards the browser: hop-by-hop headers and those named in the upstream's {@code Connection}
 * removed; {@code Location} and {@code Set-Cookie} paths mapped into the workspace's tunnel; cookies
 * with a {@code Domain} or with the proxy's own cookie name refused; {@code Clear-Site-Data} dropped
 * and {@code Service-Worker-Allowed} kept inside the tunnel, so a workspace cannot wipe or take over
 * the rest of the origin it shares with the portal.
 *
 * <p>Immutable and thread-safe.
 */
public final class HeaderPolicy {
    /** Hop-by-hop headers (RFC 9110 section 7.6.1), lower case. */
    public static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
            "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade");
    /** Headers by which a client claims where a request came from; believed from trusted proxies only. */
    static final Set<String> CLIENT_FORWARDING = Set.of("forwarded", "x-forwarded-for",
            "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-forwarded-server",
            "x-forwarded-prefix", "x-forwarded-ssl", "x-forwarded-scheme", "x-real-ip", "x-client-ip",
            "true-client-ip", "x-cluster-client-ip", "x-original-url", "x-rewrite-url", "front-end-https");
    /** Credentials meant for the portal or a proxy, never for a workspace. */
    private static final Set<String> CREDENTIALS = Set.of("authorization", "proxy-authorization");
    /** Response headers a workspace may not send to the browser (they act on the whole origin). */
    private static final Set<String> ORIGIN_WIDE_RESPONSE = Set.of("clear-site-data");

    private final String cookieName;
    private final boolean stripPrefix;
    private final TrustedProxies trustedProxies;

    /** A policy that trusts no client's forwarding headers. */
    public HeaderPolicy(String cookieName, boolean stripPrefix) {
        this(cookieName, stripPrefix, TrustedProxies.NONE);
    }

    /** A policy that keeps and extends the forwarding headers of {@code trustedProxies}. */
    public HeaderPolicy(String cookieName, boolean stripPrefix, TrustedProxies trustedProxies) {
        this.cookieName = cookieName;
        this.stripPrefix = stripPrefix;
        this.trustedProxies = java.util.Objects.requireNonNull(trustedProxies, "trustedProxies");
    }

    /**
     * Emits every header to send upstream for {@code request}, in order, names as the browser wrote
     * them, followed by the forwarding headers.
     *
     * @param skip extra lower-case header names the caller handles itself (e.g. WebSocket handshake headers)
     */
    public void forEachUpstreamHeader(HttpServletRequest request, Set<String> skip, BiConsumer<String, String> sink) {
        Set<String> connectionNamed = connectionNamed(request);
        boolean trusted = trustedProxies.trusts(request.getRemoteAddr());
        String host = request.getHeader("Host");
        if (host == null) {
            // HTTP/2: the browser named the host in :authority, which the Servlet API does not list as a header.
            host = BrowserHost.authority(request);
            if (host != null && !skip.contains("host")) {
                sink.accept("Host", host);
            }
        }
        for (Enumeration<String> names = request.getHeaderNames(); names.hasMoreElements(); ) {
            String name = names.nextElement();
            String lower = name.toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(lower) || CREDENTIALS.contains(lower) || connectionNamed.contains(lower)
                    || skip.contains(lower)) {
                continue;
            }
            if (CLIENT_FORWARDING.contains(lower)
                    && (!trusted || FORWARDING_REBUILT.contains(lower))) {
                continue;
            }
            for (Enumeration<String> values = request.getHeaders(name); values.hasMoreElements(); ) {
                String value = values.nextElement();
                if (value == null) {
                    continue;
                }
                if (lower.equals("cookie")) {
                    value = withoutProxyCookie(value);
                    if (value.isEmpty()) {
                        continue;
                    }
                }
                sink.accept(name, value);
            }
        }
        String remote = request.getRemoteAddr();
        if (!trusted) {
            sink.accept("X-Forwarded-For", remote);
            sink.accept("X-Forwarded-Proto", request.getScheme());
            if (host != null) {
                sink.accept("X-Forwarded-Host", host);
            }
            return;
        }
        // A trusted proxy's claims stand; this hop is appended to the chains it started.
        String forwardedFor = joined(request, "X-Forwarded-For");
        sink.accept("X-Forwarded-For", forwardedFor == null ? remote : forwardedFor + ", " + remote);
        String proto = firstValue(request, "X-Forwarded-Proto");
        sink.accept("X-Forwarded-Proto", proto != null ? proto : request.getScheme());
        String forwardedHost = firstValue(request, "X-Forwarded-Host");
        if (forwardedHost != null || host != null) {
            sink.accept("X-Forwarded-Host", forwardedHost != null ? forwardedHost : host);
        }
        String forwarded = joined(request, "Forwarded");
        if (forwarded != null) {
            sink.accept("Forwarded", forwarded + ", " + forwardedElement(remote, request.getScheme(), host));
        }
    }

    /** True when {@code remoteAddress} is a trusted proxy's. */
    public boolean trusts(String remoteAddress) {
        return trustedProxies.trusts(remoteAddress);
    }

    /**
     * The header names an upstream response lists in its {@code Connection} header(s), lower case:
     * they are hop-by-hop for that response and not passed to the browser.
     */
    public static Set<String> connectionNamed(Iterable<String> connectionValues) {
        Set<String> names = new HashSet<>();
        for (String value : connectionValues) {
            if (value == null) {
                continue;
            }
            for (String name : value.split(",")) {
                if (!name.isBlank()) {
                    names.add(name.trim().toLowerCase(Locale.ROOT));
                }
            }
        }
        return names;
    }

    /**
     * Whether an upstream response header (lower-case name) is withheld from the browser: hop-by-hop,
     * named in the response's {@code Connection}, or acting on the whole origin.
     */
    public boolean dropsResponseHeader(String lowerName, Set<String> connectionNamed) {
        return HOP_BY_HOP.contains(lowerName) || connectionNamed.contains(lowerName)
                || ORIGIN_WIDE_RESPONSE.contains(lowerName);
    }

    /**
     * Keeps an upstream {@code Service-Worker-Allowed} inside the tunnel: an absolute path is mapped
     * under the tunnel base like a {@code Location}; anything else is dropped (null), so a workspace's
     * service worker can never control the portal's pages.
     */
    public String rewriteServiceWorkerAllowed(TunnelRequest tunnel, String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim();
        if (!v.startsWith("/") || v.startsWith("//") || v.contains("\\") || !PathGuard.isSafeRawPath(v)) {
            return null;
        }
        String mapped = mapPath(tunnel, v);
        return mapped.startsWith(tunnel.tunnelBase()) ? mapped : null;
    }

    private static final Set<String> FORWARDING_REBUILT = Set.of("x-forwarded-for", "x-forwarded-proto",
            "x-forwarded-host", "forwarded");

    private static String joined(HttpServletRequest request, String name) {
        StringBuilder sb = new StringBuilder();
        for (Enumeration<String> values = request.getHeaders(name); values.hasMoreElements(); ) {
            String value = values.nextElement();
            if (value != null && !value.isBlank()) {
                if (sb.length() > 0) {
                    sb.append(", ");
                }
                sb.append(value.trim());
            }
        }
        return sb.length() == 0 ? null : sb.toString();
    }

    private static String firstValue(HttpServletRequest request, String name) {
        String all = joined(request, name);
        if (all == null) {
            return null;
        }
        int comma = all.indexOf(',');
        String first = (comma < 0 ? all : all.substring(0, comma)).trim();
        return first.isEmpty() ? null : first;
    }

    /** An RFC 7239 element for this hop: {@code for="..";proto=..;host=".."}. */
    private static String forwardedElement(String remote, String scheme, String host) {
        String forNode = remote.indexOf(':') >= 0 && !remote.startsWith("[") ? "[" + remote + "]" : remote;
        StringBuilder sb = new StringBuilder("for=\"").append(forNode).append("\";proto=").append(scheme);
        if (host != null && host.matches("[A-Za-z0-9.:\\[\\]-]+")) {
            sb.append(";host=\"").append(host).append('"');
        }
        return sb.toString();
    }

    /** A {@code Cookie} header value without the proxy's own cookie; empty when nothing is left. */
    public String withoutProxyCookie(String cookieHeader) {
        StringBuilder sb = new StringBuilder(cookieHeader.length());
        for (String pair : cookieHeader.split(";")) {
            String trimmed = pair.trim();
            if (trimmed.isEmpty()) {
                continue;
            }
            int eq = trimmed.indexOf('=');
            String name = eq < 0 ? trimmed : trimmed.substring(0, eq).trim();
            if (name.equals(cookieName)) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append("; ");
            }
            sb.append(trimmed);
        }
        return sb.toString();
    }

    /**
     * Maps an upstream {@code Location} into the tunnel. Absolute paths and absolute URLs that point
     * at the upstream itself or at the browser-facing host are rewritten under {@code tunnel.tunnelBase()};
     * relative references and other hosts pass unchanged.
     */
    public String rewriteLocation(TunnelRequest tunnel, String requestHost, String location) {
        if (location == null || location.isEmpty()) {
            return location;
        }
        URI uri;
        try {
            uri = URI.create(location.trim());
        } catch (IllegalArgumentException e) {
            return location;
        }
        String path;
        if (uri.isAbsolute()) {
            String authority = uri.getRawAuthority();
            URI base = tunnel.target().base();
            boolean upstream = authority != null && authority.equalsIgnoreCase(base.getRawAuthority());
            boolean browserHost = authority != null && authority.equalsIgnoreCase(requestHost);
            if (!upstream && !browserHost) {
                return location;
            }
            path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        } else if (location.startsWith("/") && !location.startsWith("//")) {
            path = uri.getRawPath();
        } else {
            return location;
        }
        String mapped = mapPath(tunnel, path);
        StringBuilder sb = new StringBuilder(mapped);
        if (uri.getRawQuery() != null) {
            sb.append('?').append(uri.getRawQuery());
        }
        if (uri.getRawFragment() != null) {
            sb.append('#').append(uri.getRawFragment());
        }
        return sb.toString();
    }

    /**
     * Maps an upstream {@code Set-Cookie} into the tunnel: its {@code Path} goes under the tunnel
     * base (a cookie without Path keeps the browser's default, which already lies inside the tunnel),
     * {@code Domain} is removed. Returns null to drop a cookie that would shadow the proxy's own.
     */
    public String rewriteSetCookie(TunnelRequest tunnel, String setCookie) {
        String[] parts = setCookie.split(";");
        String pair = parts[0].trim();
        int eq = pair.indexOf('=');
        String name = eq < 0 ? pair : pair.substring(0, eq).trim();
        if (name.equals(cookieName)) {
            return null;
        }
        StringBuilder sb = new StringBuilder(setCookie.length() + 32).append(pair);
        boolean hasPath = false;
        for (int i = 1; i < parts.length; i++) {
            String attribute = parts[i].trim();
            if (attribute.isEmpty()) {
                continue;
            }
            String lower = attribute.toLowerCase(Locale.ROOT);
            if (lower.startsWith("domain=") || lower.equals("domain")) {
                continue;
            }
            if (lower.startsWith("path=")) {
                String value = attribute.substring(5).trim();
                attribute = "Path=" + mapPath(tunnel, value.startsWith("/") ? value : "/");
                hasPath = true;
            }
            sb.append("; ").append(attribute);
        }
        if (!hasPath && !stripPrefix) {
            sb.append("; Path=").append(tunnel.tunnelBase());
        }
        return sb.toString();
    }

    /** An absolute upstream path as the browser sees it. */
    private String mapPath(TunnelRequest tunnel, String upstreamPath) {
        String base = tunnel.tunnelBase();
        if (!stripPrefix) {
            // The upstream already serves under /__ide/{id}/; only the context path may be missing.
            String prefix = base.substring(0, base.length() - ("/__ide/" + tunnel.workspaceId() + "/").length());
            return upstreamPath.startsWith(prefix + "/__ide/") ? upstreamPath : prefix + upstreamPath;
        }
        String targetPath = tunnel.target().base().getRawPath();
        if (targetPath != null && !targetPath.isEmpty() && upstreamPath.startsWith(targetPath)) {
            upstreamPath = upstreamPath.substring(targetPath.length());
        }
        return base + (upstreamPath.startsWith("/") ? upstreamPath.substring(1) : upstreamPath);
    }

    private static Set<String> connectionNamed(HttpServletRequest request) {
        Set<String> names = connectionNamed(java.util.Collections.list(request.getHeaders("Connection")));
        // Host always reaches the upstream, whatever the client lists.
        names.remove("host");
        return names;
    }
}

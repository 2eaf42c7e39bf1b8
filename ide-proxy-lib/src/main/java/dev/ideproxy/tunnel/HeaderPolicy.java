package dev.ideproxy.tunnel;

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
 * sent one; {@code Cookie} without the proxy's own session cookie; hop-by-hop headers and those
 * named in {@code Connection} removed; any {@code X-Forwarded-*}, {@code Forwarded} or
 * {@code X-Real-IP} from the client dropped and {@code X-Forwarded-For/Proto/Host} set from what the
 * proxy knows.
 *
 * <p>Towards the browser: {@code Location} and {@code Set-Cookie} paths mapped into the workspace's
 * tunnel; cookies with a {@code Domain} or with the proxy's own cookie name refused.
 *
 * <p>Immutable and thread-safe.
 */
public final class HeaderPolicy {
    /** Hop-by-hop headers (RFC 9110 section 7.6.1), lower case. */
    public static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-connection",
            "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade");
    private static final Set<String> CLIENT_FORWARDING = Set.of("forwarded", "x-forwarded-for",
            "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-forwarded-server",
            "x-forwarded-prefix", "x-real-ip");

    private final String cookieName;
    private final boolean stripPrefix;

    public HeaderPolicy(String cookieName, boolean stripPrefix) {
        this.cookieName = cookieName;
        this.stripPrefix = stripPrefix;
    }

    /**
     * Emits every header to send upstream for {@code request}, in order, names as the browser wrote
     * them, followed by the forwarding headers.
     *
     * @param skip extra lower-case header names the caller handles itself (e.g. WebSocket handshake headers)
     */
    public void forEachUpstreamHeader(HttpServletRequest request, Set<String> skip, BiConsumer<String, String> sink) {
        Set<String> connectionNamed = connectionNamed(request);
        for (Enumeration<String> names = request.getHeaderNames(); names.hasMoreElements(); ) {
            String name = names.nextElement();
            String lower = name.toLowerCase(Locale.ROOT);
            if (HOP_BY_HOP.contains(lower) || CLIENT_FORWARDING.contains(lower) || connectionNamed.contains(lower)
                    || skip.contains(lower)) {
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
        sink.accept("X-Forwarded-For", request.getRemoteAddr());
        sink.accept("X-Forwarded-Proto", request.getScheme());
        String host = request.getHeader("Host");
        if (host != null) {
            sink.accept("X-Forwarded-Host", host);
        }
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
        Set<String> names = new HashSet<>();
        for (Enumeration<String> values = request.getHeaders("Connection"); values.hasMoreElements(); ) {
            for (String name : values.nextElement().split(",")) {
                // Host always reaches the upstream, whatever the client lists.
                if (!name.isBlank() && !name.trim().equalsIgnoreCase("host")) {
                    names.add(name.trim().toLowerCase(Locale.ROOT));
                }
            }
        }
        return names;
    }
}

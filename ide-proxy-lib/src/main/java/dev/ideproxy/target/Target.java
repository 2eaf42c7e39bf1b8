package dev.ideproxy.target;

import java.net.URI;
import java.util.Locale;
import java.util.Objects;

/**
 * Where one workspace's IDE listens: an {@code http} or {@code https} base URI with a host, an
 * optional path prefix and no query or fragment. Immutable.
 *
 * @param workspaceId the workspace
 * @param base        the normalised base URI, without a trailing slash
 */
public record Target(String workspaceId, URI base) {

    public Target {
        Objects.requireNonNull(workspaceId, "workspaceId");
        base = checkBase(base);
    }

    /** Parses and checks a base URI; throws {@link IllegalArgumentException} with a clear message. */
    public static Target of(String workspaceId, String base) {
        try {
            return new Target(workspaceId, new URI(base.trim()));
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("'" + base + "' is not a valid URI: " + e.getReason());
        }
    }

    /**
     * The upstream HTTP URI for a raw (still percent-encoded) path and query.
     *
     * @param rawPath path starting with {@code /}, as received from the browser
     * @param rawQuery query without {@code ?}, or null
     */
    public String httpUri(String rawPath, String rawQuery) {
        return build(base.getScheme(), rawPath, rawQuery);
    }

    /** The upstream WebSocket URI ({@code ws} or {@code wss}) for a raw path and query. */
    public String webSocketUri(String rawPath, String rawQuery) {
        return build("https".equals(base.getScheme()) ? "wss" : "ws", rawPath, rawQuery);
    }

    private String build(String scheme, String rawPath, String rawQuery) {
        StringBuilder sb = new StringBuilder(64).append(scheme).append("://").append(base.getRawAuthority());
        String prefix = base.getRawPath();
        if (prefix != null) {
            sb.append(prefix);
        }
        sb.append(rawPath.isEmpty() ? "/" : rawPath);
        if (rawQuery != null) {
            sb.append('?').append(rawQuery);
        }
        return sb.toString();
    }

    /**
     * Why {@link URI} found no host in an authority: {@code java.net.URI} gives up on the whole
     * authority for a bad port or an invalid host name (such as one with an underscore) alike, and
     * "has no host" would send the user looking at the wrong part.
     */
    private static String withoutHost(String authority) {
        if (authority == null || authority.isEmpty()) {
            return " has no host";
        }
        String hostPort = authority.substring(authority.lastIndexOf('@') + 1);
        int bracket = hostPort.indexOf("]:");
        int colon = hostPort.startsWith("[") ? (bracket < 0 ? -1 : bracket + 1) : hostPort.lastIndexOf(':');
        String host = colon >= 0 ? hostPort.substring(0, colon) : hostPort;
        if (colon >= 0) {
            String port = hostPort.substring(colon + 1);
            if (port.isEmpty() || !port.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return ": port '" + port + "' is not a number";
            }
            if (port.length() > 5 || Integer.parseInt(port) > 65535) {
                return ": port " + port + " is out of range (1-65535)";
            }
        }
        return host.isEmpty() ? " has no host" : ": '" + host + "' is not a valid host name";
    }

    private static URI checkBase(URI base) {
        Objects.requireNonNull(base, "base");
        String scheme = base.getScheme() == null ? null : base.getScheme().toLowerCase(Locale.ROOT);
        if (!"http".equals(scheme) && !"https".equals(scheme)) {
            throw new IllegalArgumentException("target '" + base + "' must be an http:// or https:// URI");
        }
        if (base.getHost() == null) {
            throw new IllegalArgumentException("target '" + base + "'" + withoutHost(base.getRawAuthority()));
        }
        if (base.getPort() == 0 || base.getPort() > 65535) {
            throw new IllegalArgumentException("target '" + base + "': port " + base.getPort() + " is out of range (1-65535)");
        }
        if (base.getRawUserInfo() != null) {
            throw new IllegalArgumentException("target '" + base + "' must not carry user info");
        }
        if (base.getRawQuery() != null || base.getRawFragment() != null) {
            throw new IllegalArgumentException("target '" + base + "' must not have a query or fragment");
        }
        String path = base.getRawPath() == null ? "" : base.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return URI.create(scheme + "://" + base.getRawAuthority() + path);
    }
}

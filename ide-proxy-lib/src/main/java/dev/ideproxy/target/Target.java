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

    private static URI checkBase(URI base) {
        Objects.requireNonNull(base, "base");
        String scheme = base.getScheme() == null ? null : base.getScheme().toLowerCase(Locale.ROOT);
        if (!"http".equals(scheme) && !"https".equals(scheme)) {
            throw new IllegalArgumentException("target '" + base + "' must be an http:// or https:// URI");
        }
        if (base.getHost() == null) {
            throw new IllegalArgumentException("target '" + base + "' has no host");
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

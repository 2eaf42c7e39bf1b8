package dev.ideproxy.internal.websocket;

import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Refuses cross-site WebSocket hijacking: a browser sends its page's {@code Origin} with every
 * upgrade and the session cookie rides along whatever page opened the socket, so an upgrade is only
 * accepted when the Origin's {@code host[:port]} is the request's own {@code Host}, or is one of the
 * configured allowed origins. An upgrade without Origin (not a browser) is accepted only when so
 * configured. Default ports (80 for http/ws, 443 for https/wss) are ignored on both sides, and the
 * opaque origin {@code null} never matches.
 *
 * <p>Immutable and thread-safe.
 */
final class OriginCheck {
    private final Set<String> allowedOrigins;
    private final boolean allowMissing;

    /**
     * @param allowedOrigins extra origins, {@code scheme://host[:port]}, any case, trailing slash allowed
     * @param allowMissing   whether an upgrade without Origin is accepted
     */
    OriginCheck(List<String> allowedOrigins, boolean allowMissing) {
        this.allowedOrigins = allowedOrigins.stream().map(OriginCheck::normalise)
                .filter(o -> o != null).collect(Collectors.toUnmodifiableSet());
        this.allowMissing = allowMissing;
    }

    /**
     * @param origin the request's {@code Origin} header, or null when absent
     * @param host   the request's {@code Host} header, or null
     * @return whether the upgrade may proceed
     */
    boolean allows(String origin, String host) {
        if (origin == null || origin.isBlank()) {
            return allowMissing;
        }
        String normalised = normalise(origin.trim());
        if (normalised == null) {
            return false;
        }
        if (allowedOrigins.contains(normalised)) {
            return true;
        }
        if (host == null || host.isBlank()) {
            return false;
        }
        String authority = normalised.substring(normalised.indexOf("://") + 3);
        return authority.equals(withoutDefaultPort(host.trim().toLowerCase(Locale.ROOT)));
    }

    /** {@code scheme://host[:port]} in lower case without a default port, or null when not an origin. */
    static String normalise(String origin) {
        String value = origin.trim().toLowerCase(Locale.ROOT);
        while (value.endsWith("/")) {
            value = value.substring(0, value.length() - 1);
        }
        URI uri;
        try {
            uri = new URI(value);
        } catch (java.net.URISyntaxException e) {
            return null;
        }
        String scheme = uri.getScheme();
        String host = uri.getHost();
        if (scheme == null || host == null || uri.getRawUserInfo() != null
                || (uri.getRawPath() != null && !uri.getRawPath().isEmpty())
                || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            return null;
        }
        int port = uri.getPort();
        boolean defaultPort = port == -1
                || (port == 80 && (scheme.equals("http") || scheme.equals("ws")))
                || (port == 443 && (scheme.equals("https") || scheme.equals("wss")));
        return scheme + "://" + host + (defaultPort ? "" : ":" + port);
    }

    private static String withoutDefaultPort(String hostHeader) {
        if (hostHeader.endsWith(":80")) {
            return hostHeader.substring(0, hostHeader.length() - 3);
        }
        if (hostHeader.endsWith(":443")) {
            return hostHeader.substring(0, hostHeader.length() - 4);
        }
        return hostHeader;
    }
}

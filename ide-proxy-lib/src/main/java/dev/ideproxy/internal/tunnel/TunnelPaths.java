package dev.ideproxy.internal.tunnel;

/**
 * The fixed URL layout, relative to the web application's context path:
 * {@code /api/dev/{id}/ide-token} (mint), {@code /api/dev/{id}/ide} (bootstrap) and
 * {@code /__ide/{id}/...} (live tunnel), inside which {@code /__ide/{id}/.ide-proxy/...} is ide-proxy's own.
 */
public final class TunnelPaths {
    /** Servlet mapping of the mint and bootstrap endpoints. */
    public static final String API_MAPPING = "/api/dev/*";
    /** Servlet and filter mapping of the live tunnel. */
    public static final String TUNNEL_MAPPING = "/__ide/*";
    /** First path segment of the live tunnel. */
    public static final String TUNNEL_PREFIX = "/__ide/";

    /**
     * The first path segment under a tunnel base that ide-proxy keeps for itself
     * ({@code /__ide/{id}/.ide-proxy/diagnose}): never forwarded, so it shadows the upstream's own
     * {@code /.ide-proxy/}. A dot-directory named for this proxy, which no IDE serves.
     */
    public static final String OWN_SEGMENT = ".ide-proxy";

    private TunnelPaths() {
    }

    /**
     * The part of a decoded tunnel path after {@code /{id}/.ide-proxy/} (empty for {@code /{id}/.ide-proxy}),
     * or null when the path is not one of ide-proxy's own.
     *
     * @param decodedPath the servlet path info, {@code /{id}/...}
     */
    public static String ownPath(String decodedPath, String workspaceId) {
        String own = "/" + workspaceId + "/" + OWN_SEGMENT;
        if (decodedPath == null || !decodedPath.startsWith(own)) {
            return null;
        }
        String rest = decodedPath.substring(own.length());
        return rest.isEmpty() ? "" : rest.startsWith("/") ? rest.substring(1) : null;
    }

    /** {@code <context>/__ide/{id}/}: where the browser lands and the path the session cookie is scoped to. */
    public static String tunnelBase(String contextPath, String workspaceId) {
        return contextPath + TUNNEL_PREFIX + workspaceId + "/";
    }

    /** {@code <context>/api/dev/{id}/ide}, without the token parameter. */
    public static String bootstrapPath(String contextPath, String workspaceId) {
        return contextPath + "/api/dev/" + workspaceId + "/ide";
    }
}

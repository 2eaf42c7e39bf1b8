package dev.ideproxy.internal.tunnel;

/**
 * The fixed URL layout, relative to the web application's context path:
 * {@code /api/dev/{id}/ide-token} (mint), {@code /api/dev/{id}/ide} (bootstrap) and
 * {@code /__ide/{id}/...} (live tunnel).
 */
public final class TunnelPaths {
    /** Servlet mapping of the mint and bootstrap endpoints. */
    public static final String API_MAPPING = "/api/dev/*";
    /** Servlet and filter mapping of the live tunnel. */
    public static final String TUNNEL_MAPPING = "/__ide/*";
    /** First path segment of the live tunnel. */
    public static final String TUNNEL_PREFIX = "/__ide/";

    private TunnelPaths() {
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

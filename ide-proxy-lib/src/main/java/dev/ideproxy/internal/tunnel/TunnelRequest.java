package dev.ideproxy.internal.tunnel;

import dev.ideproxy.target.Target;
import jakarta.servlet.ServletRequest;
import java.time.Instant;
import java.util.Objects;

/**
 * One authenticated, resolved request to the live tunnel: who, which workspace, which upstream, and
 * the path and query to send there. Made once by {@link IdeTunnelFilter} and carried as a request
 * attribute to whichever path (HTTP or WebSocket) serves the request, so the target can never be
 * resolved twice or replaced by a default. Immutable.
 *
 * @param workspaceId  the workspace
 * @param user         the user of the session cookie
 * @param target       the upstream resolved for this request
 * @param tunnelBase   the browser-facing base path, {@code <context>/__ide/{id}/}
 * @param upstreamPath raw (still percent-encoded) path to request upstream, starting with {@code /}
 * @param rawQuery     raw query string, or null
 * @param sessionStart when the session behind this request began (a revocation at or after it ends
 *                     the session), or null when unknown
 * @param sessionEnds  when the session behind this request reaches its maximum lifetime, or null
 *                     when it has none; a WebSocket opened with it is closed then
 */
public record TunnelRequest(String workspaceId, String user, Target target, String tunnelBase,
                            String upstreamPath, String rawQuery, Instant sessionStart, Instant sessionEnds) {

    /** The request attribute under which the filter leaves this object. */
    public static final String ATTRIBUTE = TunnelRequest.class.getName();

    public TunnelRequest {
        Objects.requireNonNull(workspaceId, "workspaceId");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(tunnelBase, "tunnelBase");
        Objects.requireNonNull(upstreamPath, "upstreamPath");
        if (!target.workspaceId().equals(workspaceId)) {
            throw new IllegalArgumentException("target resolved for another workspace");
        }
    }

    /** A tunnel request whose session has no end (for callers that check sessions themselves). */
    public TunnelRequest(String workspaceId, String user, Target target, String tunnelBase, String upstreamPath,
                         String rawQuery) {
        this(workspaceId, user, target, tunnelBase, upstreamPath, rawQuery, null, null);
    }

    /** The tunnel request the filter attached to {@code request}, or null when it did not pass the filter. */
    public static TunnelRequest of(ServletRequest request) {
        Object value = request.getAttribute(ATTRIBUTE);
        return value instanceof TunnelRequest t ? t : null;
    }

    /** The full upstream HTTP URI for this request. */
    public String httpUri() {
        return target.httpUri(upstreamPath, rawQuery);
    }

    /** The full upstream WebSocket URI for this request. */
    public String webSocketUri() {
        return target.webSocketUri(upstreamPath, rawQuery);
    }

    /** Path and query for logs: the query is left out since it may carry application tokens. */
    public String describe() {
        return "workspace " + workspaceId + " " + target.base() + upstreamPath + (rawQuery == null ? "" : "?...");
    }
}

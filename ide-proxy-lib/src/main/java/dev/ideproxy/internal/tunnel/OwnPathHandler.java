package dev.ideproxy.internal.tunnel;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * Serves ide-proxy's own paths under a workspace's tunnel, {@code <base>.ide-proxy/...} (see
 * {@link TunnelPaths#OWN_SEGMENT}), which {@link IdeTunnelFilter} hands over after its path checks
 * and before its session check, and never forwards upstream. The diagnostics side implements it; the
 * filter knows nothing else of it. Implementations check the session themselves where they need one,
 * and never contact the upstream. Implementations are thread-safe.
 */
@FunctionalInterface
public interface OwnPathHandler {

    /**
     * Answers {@code request}.
     *
     * @param workspaceId the workspace in the path (valid, and in host mode on its own host)
     * @param path        the decoded path after {@code <base>.ide-proxy/}, e.g. {@code diagnose/info};
     *                    empty for {@code <base>.ide-proxy} and {@code <base>.ide-proxy/}
     */
    void serve(String workspaceId, String path, HttpServletRequest request, HttpServletResponse response)
            throws IOException;
}

package dev.ideproxy.internal.tunnel;

import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.config.IdeProxyConfig.WorkspaceOrigin;
import dev.ideproxy.internal.web.BrowserHost;
import jakarta.servlet.http.HttpServletRequest;
import java.util.regex.Pattern;

/**
 * Where the browser reaches each workspace. In <b>path mode</b> (the default) every workspace is
 * served on whatever host the proxy is reached at, under {@code /__ide/{id}/}: one origin for all.
 * In <b>host mode</b> ({@code workspace.origin}, e.g. {@code https://{id}.ide.example.net}) each
 * workspace has its own origin: its bootstrap and tunnel answer only on the workspace's own host, so
 * its cookie is set there (host-only) and a page served by one workspace is cross-origin to every
 * other workspace and to the portal. Immutable and thread-safe.
 */
public final class WorkspaceOrigins {
    /** A workspace id usable as a DNS label, as host mode requires. */
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");

    private final String scheme;
    /** Host after {id}, lower case, starting with "."; null in path mode. */
    private final String hostSuffix;
    /** ":port" or "". */
    private final String port;

    private WorkspaceOrigins(String scheme, String hostSuffix, String port) {
        this.scheme = scheme;
        this.hostSuffix = hostSuffix;
        this.port = port;
    }

    /** Path mode, or host mode when {@code workspace.origin} is set. */
    public static WorkspaceOrigins from(IdeProxyConfig config) {
        WorkspaceOrigin origin = config.workspaceOrigin();
        return origin == null ? new WorkspaceOrigins(null, null, "")
                : new WorkspaceOrigins(origin.scheme(), origin.hostSuffix(), origin.port() < 0 ? "" : ":" + origin.port());
    }

    /** True in host mode. */
    public boolean perWorkspace() {
        return hostSuffix != null;
    }

    /**
     * What goes before a path to address the workspace from elsewhere: {@code https://42.ide.example.net}
     * in host mode, the empty string in path mode (paths are then relative to the proxy's own origin).
     */
    public String prefix(String workspaceId) {
        return perWorkspace() ? scheme + "://" + workspaceId + hostSuffix + port : "";
    }

    /** False when host mode cannot give {@code workspaceId} an origin: it is not a lower-case DNS label. */
    public boolean canServe(String workspaceId) {
        return !perWorkspace() || DNS_LABEL.matcher(workspaceId).matches();
    }

    /**
     * True when {@code request} reached the workspace's own address: always in path mode; in host mode
     * when the id can be a host label and the host the browser addressed ({@link BrowserHost}: over
     * HTTP/1.1 the {@code Host} header as the browser sent it, not {@code getServerName()}, which a
     * container's forwarded-header support may take from {@code X-Forwarded-Host}; over HTTP/2 its
     * {@code :authority}) names the workspace's host. The port is not compared: cookies do not tell
     * ports apart either.
     */
    public boolean accepts(HttpServletRequest request, String workspaceId) {
        if (!perWorkspace()) {
            return true;
        }
        String host = hostName(BrowserHost.of(request));
        return canServe(workspaceId) && host != null && host.equalsIgnoreCase(workspaceId + hostSuffix);
    }

    /** The host name of a Host header without its port; null when absent or an IPv6 literal (never a workspace). */
    static String hostName(String hostHeader) {
        if (hostHeader == null || hostHeader.isEmpty() || hostHeader.charAt(0) == '[') {
            return null;
        }
        int colon = hostHeader.indexOf(':');
        return colon < 0 ? hostHeader : hostHeader.substring(0, colon);
    }
}

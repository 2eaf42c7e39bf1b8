package dev.ideproxy.internal.web;

import jakarta.servlet.http.HttpServletRequest;

/**
 * The host, and port, that the browser addressed: the browser-facing {@code Host} that is passed
 * upstream, that redirects are mapped against, that WebSocket origins are checked against and that
 * host mode reads the workspace from.
 *
 * <p>Over HTTP/1.1 that is the {@code Host} header as the browser sent it. Over HTTP/2, which browsers
 * speak to a container that serves HTTPS with HTTP/2 enabled, the browser sends the {@code :authority}
 * pseudo-header instead and usually no {@code Host}; neither Jetty 12 nor Tomcat 11 shows it as a
 * header, and both parse it into the request's server name and port, which this then uses (the port
 * left out when it is the scheme's default, as browsers leave it out). A container configured to take
 * the server name from forwarded headers ({@code ForwardedRequestCustomizer}, {@code RemoteIpValve})
 * changes that name only as its deployer told it to; HTTP/1.1 requests keep the raw header.
 */
public final class BrowserHost {
    private BrowserHost() {
    }

    /** The browser-facing {@code host[:port]} of {@code request}, or null when it named none. */
    public static String of(HttpServletRequest request) {
        String host = request.getHeader("Host");
        return host != null ? host : authority(request);
    }

    /**
     * For a request without a {@code Host} header: over HTTP/2 the {@code :authority} the container parsed
     * into its server name and port, else null (an HTTP/1.0 request that named no host).
     */
    public static String authority(HttpServletRequest request) {
        if (!isHttp2(request)) {
            return null;
        }
        String name = request.getServerName();
        if (name == null || name.isEmpty()) {
            return null;
        }
        if (name.indexOf(':') >= 0 && name.charAt(0) != '[') {
            name = "[" + name + "]";
        }
        int port = request.getServerPort();
        String scheme = request.getScheme();
        boolean defaultPort = port <= 0
                || (port == 80 && "http".equalsIgnoreCase(scheme))
                || (port == 443 && "https".equalsIgnoreCase(scheme));
        return defaultPort ? name : name + ":" + port;
    }

    /**
     * True when {@code request} names its host in HTTP/2's {@code :authority}, not a {@code Host} header
     * that the Servlet API shows.
     */
    public static boolean isHttp2(HttpServletRequest request) {
        String protocol = request.getProtocol();
        return protocol != null && protocol.startsWith("HTTP/2");
    }
}

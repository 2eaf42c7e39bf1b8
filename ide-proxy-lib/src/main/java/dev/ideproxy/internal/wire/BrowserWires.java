package dev.ideproxy.internal.wire;

import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletRequestWrapper;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.List;

/**
 * Which container's connection API can take the browser's connection over for a passthrough relay,
 * and the take-over itself. Each check touches a container's classes only once the request showed
 * that container, so the library loads on either without the other.
 */
public enum BrowserWires {
    /** Tomcat: {@code HttpServletRequest.upgrade} with Tomcat's socket IO ({@link TomcatWire}). */
    TOMCAT {
        @Override
        public BrowserWire upgrade(HttpServletRequest request) throws IOException {
            try {
                return request.upgrade(TomcatWire.class);
            } catch (jakarta.servlet.ServletException e) {
                throw new IOException(e);
            }
        }
    },
    /** Jetty 12.1 (ee10 or ee11) with its server classes visible to ide-proxy: the core upgrade ({@link JettyWire}). */
    JETTY {
        @Override
        public BrowserWire upgrade(HttpServletRequest request) {
            return JettyWire.upgrade(request);
        }
    };

    /** The classes a {@link JettyWire} shares with the server: each must be the server's own. */
    private static final List<String> JETTY_SHARED = List.of("org.eclipse.jetty.server.Request",
            "org.eclipse.jetty.server.HttpStream", "org.eclipse.jetty.io.AbstractConnection",
            "org.eclipse.jetty.util.Callback");
    /** The servlet environments of Jetty 12.1 whose requests lead to a core request ({@link JettyWire}). */
    private static final List<String> JETTY_ENVIRONMENTS = List.of("org.eclipse.jetty.ee10.servlet.",
            "org.eclipse.jetty.ee11.servlet.");

    /** Per class of Jetty request: whether ide-proxy sees the same Jetty classes as the server. */
    private static final ClassValue<Boolean> JETTY_VISIBLE = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> requestClass) {
            ClassLoader ours = BrowserWires.class.getClassLoader();
            ClassLoader servers = requestClass.getClassLoader();
            try {
                for (String name : JETTY_SHARED) {
                    if (Class.forName(name, false, ours) != Class.forName(name, false, servers)) {
                        return false;
                    }
                }
                return true;
            } catch (ClassNotFoundException | LinkageError e) {
                return false; // a WAR on Jetty's distribution: the server's classes are hidden from it
            }
        }
    };

    /**
     * Switches {@code request}'s connection to the returned wire once the response has been written;
     * the caller has set the handshake's headers, then sets the status 101 and leaves the response alone.
     */
    public abstract BrowserWire upgrade(HttpServletRequest request) throws IOException;

    /**
     * The way {@code request}'s connection can be taken over, or null where none can: another
     * container, a WAR on Jetty's distribution (its server classes are hidden from web applications),
     * a Tomcat connector with {@code useAsyncIO="false"}, or a request that is not HTTP/1.1.
     */
    public static BrowserWires of(ServletRequest request) {
        ServletRequest r = request;
        while (r instanceof ServletRequestWrapper w) {
            r = w.getRequest();
        }
        if (!"HTTP/1.1".equals(r.getProtocol())) {
            // Over HTTP/2 a WebSocket is a stream of a shared connection (RFC 8441): nothing to take over.
            return null;
        }
        String name = r.getClass().getName();
        if (name.startsWith("org.apache.catalina.connector.")) {
            return TomcatWire.canUpgrade(r) ? TOMCAT : null;
        }
        if (JETTY_ENVIRONMENTS.stream().anyMatch(name::startsWith) && JETTY_VISIBLE.get(r.getClass())
                && JettyWire.canUpgrade(r)) {
            return JETTY;
        }
        return null;
    }
}

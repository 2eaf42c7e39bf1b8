package dev.ideproxy;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks at start-up that the Jetty client, proxy and WebSocket client libraries on the classpath are a
 * line ide-proxy is built for. A host application's dependency management can replace them silently:
 * Spring Boot 3 pins Jetty 12.0, and the first WebSocket would then fail with a
 * {@link NoSuchMethodError} deep in a request instead of a clear message at start-up.
 */
final class JettyLibraries {
    /** The oldest Jetty line ide-proxy runs on; it is built and tested with the version in its POM. */
    static final String MINIMUM = "12.1";

    private static final Pattern MAJOR_MINOR = Pattern.compile("^(\\d+)\\.(\\d+)");

    private JettyLibraries() {
    }

    /** @throws IllegalStateException when the Jetty libraries present are older than {@link #MINIMUM} */
    static void check() {
        check(org.eclipse.jetty.util.Jetty.VERSION);
    }

    static void check(String version) {
        Matcher m = version == null ? null : MAJOR_MINOR.matcher(version);
        if (m == null || !m.find()) {
            return; // a build without a version (e.g. from source): nothing to compare
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        if (major < 12 || major == 12 && minor < 1) {
            throw new IllegalStateException("ide-proxy needs Jetty's client, proxy and WebSocket client libraries "
                    + MINIMUM + " or later, but Jetty " + version + " is on the classpath. A dependency manager chose it "
                    + "(Spring Boot 3 pins Jetty 12.0): set the Maven property jetty.version to a 12.1 release, "
                    + "or pin org.eclipse.jetty:jetty-bom and org.eclipse.jetty.ee10:jetty-ee10-bom to one.");
        }
    }
}

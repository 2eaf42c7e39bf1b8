package dev.ideproxy.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * {@code java -jar ide-proxy.war}: unpacks the embedded Jetty kept in {@code WEB-INF/standalone}
 * (which servlet containers ignore) next to the WAR's own classes and libraries, and starts
 * {@code dev.ideproxy.war.StandaloneServer} with them. Uses only the JDK, since nothing else is on
 * the class path yet.
 */
public final class Launcher {
    /** Set by the server once it runs: the unpacked files are then deleted only after it stopped. */
    static final String RUNNING = "ide-proxy.standalone.running";
    private Launcher() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("java.util.logging.manager") == null) {
            // Before anything touches java.util.logging: keeps the drain's log lines on SIGTERM.
            System.setProperty("java.util.logging.manager", KeepLoggingAtShutdown.class.getName());
        }
        Path war = Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path dir = unpackDirectory();
        // Deleted once a started server has stopped: its shutdown (a drain) still loads classes from there.
        Thread launcher = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                if (Boolean.getBoolean(RUNNING)) {
                    launcher.join(TimeUnit.MINUTES.toMillis(10));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            deleteTree(dir);
        }));
        List<URL> classPath = new ArrayList<>();
        Path classes = Files.createDirectories(dir.resolve("classes"));
        classPath.add(classes.toUri().toURL());
        try (ZipFile zip = new ZipFile(war.toFile())) {
            for (Enumeration<? extends ZipEntry> entries = zip.entries(); entries.hasMoreElements(); ) {
                ZipEntry entry = entries.nextElement();
                String name = entry.getName();
                if (entry.isDirectory()) {
                    continue;
                }
                Path out;
                if (name.startsWith("WEB-INF/classes/")) {
                    out = classes.resolve(name.substring("WEB-INF/classes/".length())).normalize();
                } else if ((name.startsWith("WEB-INF/lib/") || name.startsWith("WEB-INF/standalone/"))
                        && name.endsWith(".jar") && name.indexOf('/', "WEB-INF/".length()) == name.lastIndexOf('/')) {
                    out = dir.resolve("lib").resolve(name.substring(name.lastIndexOf('/') + 1));
                    classPath.add(out.toUri().toURL());
                } else {
                    continue;
                }
                if (!out.startsWith(dir)) {
                    throw new IOException("unexpected entry in the WAR: " + name);
                }
                Files.createDirectories(out.getParent());
                try (InputStream in = zip.getInputStream(entry)) {
                    Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tT %4$s %3$s - %5$s%6$s%n");
        }
        ClassLoader loader = new URLClassLoader("ide-proxy-standalone", classPath.toArray(URL[]::new),
                ClassLoader.getPlatformClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        Method main = loader.loadClass("dev.ideproxy.war.StandaloneServer").getMethod("run", Path.class, String[].class);
        try {
            main.invoke(null, war, args);
        } catch (InvocationTargetException e) {
            // The server's own failure, not the reflective wrapper around it.
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /**
     * A fresh directory under {@code java.io.tmpdir}; when that is not writable, one line naming the
     * option and exit status 2, like every other launcher option (docs/deployment.md).
     */
    private static Path unpackDirectory() {
        try {
            return Files.createTempDirectory("ide-proxy-standalone-");
        } catch (IOException | UnsupportedOperationException e) {
            System.err.println("ide-proxy cannot start: java.io.tmpdir: cannot create a directory in \""
                    + System.getProperty("java.io.tmpdir") + "\" to unpack the WAR (" + e.getClass().getSimpleName() + ")");
            System.exit(2);
            throw new IllegalStateException("unreachable", e);
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort at exit
        }
    }

    /**
     * java.util.logging's own manager closes every handler as soon as the JVM begins to shut down, so
     * the lines ide-proxy logs while it drains on SIGTERM would be lost; this one keeps them (the
     * console handler flushes each line, so nothing is left to close). Public, for {@code LogManager}.
     */
    public static final class KeepLoggingAtShutdown extends java.util.logging.LogManager {
        @Override
        public void reset() {
            if (!shuttingDown()) {
                super.reset();
            }
        }

        private static boolean shuttingDown() {
            try {
                Thread probe = new Thread(() -> { });
                Runtime.getRuntime().addShutdownHook(probe);
                Runtime.getRuntime().removeShutdownHook(probe);
                return false;
            } catch (IllegalStateException e) {
                return true;
            }
        }
    }
}

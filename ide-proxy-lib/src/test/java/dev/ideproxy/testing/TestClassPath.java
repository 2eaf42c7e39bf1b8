package dev.ideproxy.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * The test class path as a list, for tests that compile against it or load it in a class loader of
 * their own. Surefire may run the tests from a booter jar whose manifest holds the real class path:
 * that jar is replaced by its entries.
 */
public final class TestClassPath {
    private TestClassPath() {
    }

    /** Each entry of the test class path, in order. */
    public static List<Path> entries() {
        List<Path> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (entry.endsWith(".jar") && path.getFileName().toString().startsWith("surefirebooter")) {
                try (JarFile jar = new JarFile(path.toFile())) {
                    Manifest manifest = jar.getManifest();
                    String classPath = manifest == null ? null : manifest.getMainAttributes().getValue("Class-Path");
                    if (classPath != null) {
                        for (String url : classPath.trim().split("\\s+")) {
                            entries.add(Path.of(path.toUri().resolve(url)));
                        }
                        continue;
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            entries.add(path);
        }
        return entries;
    }

    /** {@link #entries()} as URLs, for a class loader. */
    public static List<URL> urls() {
        List<URL> urls = new ArrayList<>();
        for (Path entry : entries()) {
            try {
                urls.add(entry.toUri().toURL());
            } catch (MalformedURLException e) {
                throw new IllegalStateException(e);
            }
        }
        return urls;
    }
}

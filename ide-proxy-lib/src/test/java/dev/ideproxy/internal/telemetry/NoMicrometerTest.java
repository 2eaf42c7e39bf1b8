package dev.ideproxy.internal.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.testing.Container;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Micrometer is an optional dependency: a host application without it must work. The test's class
 * path minus Micrometer (and the Prometheus client) becomes a class loader of its own, in which
 * {@link WithoutMicrometer} builds, installs and uses ide-proxy on a real container; no class that
 * refers to Micrometer is loaded on that path.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NoMicrometerTest {
    private static final Set<String> OPTIONAL = Set.of("micrometer", "prometheus", "HdrHistogram", "LatencyUtils");

    @ParameterizedTest
    @EnumSource(Container.class)
    void ideProxyServesWithoutMicrometerAndLoadsNoClassThatNeedsIt(Container kind) throws Exception {
        List<URL> all = classPath();
        List<URL> without = all.stream().filter(u -> OPTIONAL.stream().noneMatch(u.getPath()::contains)).toList();
        assertNotEquals(all.size(), without.size(), "Micrometer is on the test class path: " + all);

        try (Recording loader = new Recording(without.toArray(URL[]::new))) {
            Thread thread = Thread.currentThread();
            ClassLoader previous = thread.getContextClassLoader();
            thread.setContextClassLoader(loader);
            String result;
            try {
                @SuppressWarnings("unchecked")
                Callable<String> run = (Callable<String>) loader.loadClass(WithoutMicrometer.class.getName())
                        .getConstructor(String.class).newInstance(kind.name());
                result = run.call();
            } finally {
                thread.setContextClassLoader(previous);
            }
            assertEquals("http 200, websocket W|hello", result);
            assertTrue(loader.loaded.contains("dev.ideproxy.IdeProxy"), "the run used the isolated copy");
            assertTrue(loader.loaded.contains(Telemetry.class.getName()));
            assertFalse(loader.loaded.contains(MicrometerTelemetry.class.getName()), "loaded without a registry");
            assertTrue(loader.loaded.stream().noneMatch(n -> n.startsWith("io.micrometer.")));
        }
    }

    private static List<URL> classPath() {
        return dev.ideproxy.testing.TestClassPath.urls();
    }

    /** Loads from its own URLs only (the JDK from the platform), and remembers each class it defined. */
    private static final class Recording extends URLClassLoader {
        final Set<String> loaded = ConcurrentHashMap.newKeySet();

        Recording(URL[] urls) {
            super("without-micrometer", urls, ClassLoader.getPlatformClassLoader());
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            Class<?> found = super.findClass(name);
            loaded.add(name);
            return found;
        }
    }
}

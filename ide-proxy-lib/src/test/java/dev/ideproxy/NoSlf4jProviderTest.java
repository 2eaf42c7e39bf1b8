package dev.ideproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Portal;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A host application without an SLF4J provider is told so once, through {@code java.util.logging}:
 * the test's class path minus its provider (slf4j-simple) becomes a class loader of its own, in which
 * {@link Build} builds ide-proxy twice. With a provider, nothing is said.
 */
class NoSlf4jProviderTest {
    /** Held, so that the logger and its handler outlive a garbage collection. */
    private final Logger julLogger = Logger.getLogger(Slf4jProvider.JUL_LOGGER);
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void listen() {
        julLogger.addHandler(capture);
    }

    @AfterEach
    void stopListening() {
        julLogger.removeHandler(capture);
    }

    @Test
    void withoutAProviderOneWarningSaysHowToFixIt() throws Exception {
        List<URL> all = classPath();
        List<URL> without = all.stream().filter(u -> !u.getPath().contains("slf4j-simple")).toList();
        assertNotEquals(all.size(), without.size(), "slf4j-simple is not on the test class path: " + all);
        try (URLClassLoader loader = new URLClassLoader("without-slf4j-provider", without.toArray(URL[]::new),
                ClassLoader.getPlatformClassLoader())) {
            @SuppressWarnings("unchecked")
            Callable<String> run = (Callable<String>) loader.loadClass(Build.class.getName())
                    .getConstructor().newInstance();
            assertEquals("built twice without a provider", run.call());
        }
        List<LogRecord> warnings = records.stream().filter(r -> r.getLevel() == Level.WARNING).toList();
        assertEquals(1, warnings.size(), "one warning for two builds: " + warnings.stream().map(LogRecord::getMessage).toList());
        String message = warnings.get(0).getMessage();
        assertTrue(message.contains("no SLF4J provider") && message.contains("org.slf4j:slf4j-jdk14")
                && message.contains("logback-classic"), message);
    }

    @Test
    void withAProviderNothingIsSaid() {
        assertEquals("built", new Build().build());
        assertTrue(records.isEmpty(), records.stream().map(LogRecord::getMessage).toList().toString());
    }

    /** Run in the class loader without a provider. */
    public static final class Build implements Callable<String> {
        @Override
        public String call() {
            if (!Slf4jProvider.withoutProvider()) {
                return "SLF4J found a provider: " + org.slf4j.LoggerFactory.getILoggerFactory().getClass().getName();
            }
            build();
            build();
            return "built twice without a provider";
        }

        String build() {
            IdeProxy.builder(IdeProxyConfig.builder()
                    .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                    .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                    .set(ConfigOption.TARGETS, "a=http://127.0.0.1:9")
                    .build()).build();
            return "built";
        }
    }

    private static List<URL> classPath() {
        return dev.ideproxy.testing.TestClassPath.urls();
    }
}

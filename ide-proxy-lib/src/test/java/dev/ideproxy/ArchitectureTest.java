package dev.ideproxy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The direction of dependencies that docs/architecture.md draws, checked on the sources: nothing
 * refers back to {@link IdeProxy}, each internal package uses only packages of lower layers, and the
 * API packages use no internal package (but the one named exception).
 */
class ArchitectureTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/ideproxy");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?dev\\.ideproxy\\.([a-z.]*?)\\.?([A-Z]\\w*)", Pattern.MULTILINE);

    /** Layer of each package (relative to dev.ideproxy; "" is the root); API packages are -1. */
    private static final Map<String, Integer> LAYERS = Map.ofEntries(
            Map.entry("", 4),
            Map.entry("internal.bootstrap", 3), Map.entry("internal.http", 3), Map.entry("internal.websocket", 3),
            Map.entry("internal.health", 3),
            Map.entry("internal.diagnose", 3),
            Map.entry("internal.tunnel", 2),
            Map.entry("internal.session", 1),
            Map.entry("internal.token", 0), Map.entry("internal.limit", 0), Map.entry("internal.web", 0),
            Map.entry("internal.telemetry", 0),
            Map.entry("internal.activity", 0), Map.entry("internal.wire", 0),
            Map.entry("config", -1), Map.entry("access", -1), Map.entry("target", -1), Map.entry("token", -1),
            Map.entry("activity", -1));

    @Test
    void packagesUseOnlyLowerLayersAndNothingUsesTheFacade() throws IOException {
        List<String> problems = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                String from = SOURCES.relativize(file.getParent()).toString().replace('/', '.');
                Integer fromLayer = LAYERS.get(from);
                if (fromLayer == null) {
                    problems.add(file + ": package " + from + " has no layer in this test or in docs/architecture.md");
                    continue;
                }
                Matcher m = IMPORT.matcher(Files.readString(file));
                while (m.find()) {
                    String to = m.group(1);
                    String type = m.group(2);
                    if (to.equals(from)) {
                        continue;
                    }
                    if (to.isEmpty() && type.equals("IdeProxy")) {
                        problems.add(file + " uses IdeProxy");
                        continue;
                    }
                    Integer toLayer = LAYERS.get(to);
                    boolean allowed = toLayer != null && (toLayer == -1 ? true
                            : fromLayer == -1 ? from.equals("access") && type.equals("ClockedVerifier")
                            : toLayer < fromLayer);
                    if (!allowed) {
                        problems.add(file.getFileName() + " (" + from + ") uses " + to + "." + type);
                    }
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    /**
     * Micrometer is optional: only the builder's {@code meterRegistry} and {@code MicrometerTelemetry},
     * loaded only with a registry, may refer to it ({@code NoMicrometerTest} runs the proxy without it).
     */
    @Test
    void onlyMicrometerTelemetryAndTheBuilderReferToMicrometer() throws IOException {
        Set<String> allowed = Set.of("IdeProxy.java", "MicrometerTelemetry.java");
        List<String> problems = new ArrayList<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                if (Files.readString(file).contains("io.micrometer") && !allowed.contains(file.getFileName().toString())) {
                    problems.add(file + " refers to Micrometer");
                }
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }
}

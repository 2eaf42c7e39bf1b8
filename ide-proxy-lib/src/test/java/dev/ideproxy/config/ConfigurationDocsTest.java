package dev.ideproxy.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** docs/configuration.md must list every option with its environment variable and default. */
class ConfigurationDocsTest {

    @Test
    void everyOptionIsDocumentedWithItsDefault() throws Exception {
        Path docs = Path.of("..", "docs", "configuration.md");
        assertTrue(Files.exists(docs), "missing " + docs.toAbsolutePath());
        List<String> rows = Files.readAllLines(docs).stream().filter(l -> l.startsWith("| `ide-proxy.")).toList();
        List<String> problems = new ArrayList<>();
        for (ConfigOption option : ConfigOption.values()) {
            String row = rows.stream().filter(r -> r.startsWith("| `" + option.key() + "` |")).findFirst().orElse(null);
            if (row == null) {
                problems.add(option.key() + " is not documented");
                continue;
            }
            if (!row.contains("`" + option.envName() + "`")) {
                problems.add(option.key() + ": environment variable " + option.envName() + " missing");
            }
            String expected = option.defaultValue() == null ? "| —" : "| `" + option.defaultValue() + "` |";
            if (!row.contains(expected)) {
                problems.add(option.key() + ": default " + option.defaultValue() + " missing or different");
            }
        }
        for (String row : rows) {
            String key = row.substring(3, row.indexOf('`', 3));
            boolean known = key.startsWith("ide-proxy.standalone.")
                    || java.util.Arrays.stream(ConfigOption.values()).anyMatch(o -> o.key().equals(key));
            if (!known) {
                problems.add(key + " is documented but does not exist");
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }
}

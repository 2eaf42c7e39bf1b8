package dev.ideproxy.war;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fenced code blocks of docs/deployment.md, by the name of the {@code <!-- snippet: name -->}
 * marker just before each. The distribution tests deploy with exactly these texts, so that what a
 * reader pastes is what was tested; the only changes are {@link #fill placeholders} named in the docs.
 */
final class DocSnippets {
    static final Path DEPLOYMENT = Path.of(System.getProperty("basedir", "."), "..", "docs", "deployment.md").normalize();

    private static final Pattern MARKER = Pattern.compile("^<!-- snippet: ([a-z0-9-]+) -->$");
    private static final Pattern FENCE = Pattern.compile("^(\\s*)```(\\S*)\\s*$");

    /** A fenced block: its marker's name (null when unmarked), language, text and the section it is in. */
    record Block(String name, String language, String text, String section, int line) {
    }

    private DocSnippets() {
    }

    /** The text of the block marked {@code name} in docs/deployment.md, with a final newline. */
    static String snippet(String name) {
        return blocks(DEPLOYMENT).stream().filter(b -> name.equals(b.name())).findFirst()
                .orElseThrow(() -> new AssertionError("docs/deployment.md has no block marked <!-- snippet: " + name + " -->"))
                .text();
    }

    /**
     * {@code text} with each placeholder replaced, failing when one is missing: renaming a
     * placeholder in the docs must break the test rather than leave the value untouched.
     */
    static String fill(String name, String text, Map<String, String> placeholders) {
        String result = text;
        for (Map.Entry<String, String> p : placeholders.entrySet()) {
            if (!result.contains(p.getKey())) {
                throw new AssertionError("snippet " + name + " no longer contains the placeholder '" + p.getKey() + "':\n" + text);
            }
            result = result.replace(p.getKey(), p.getValue());
        }
        return result;
    }

    /** The block marked {@code name}, its placeholders replaced. */
    static String snippet(String name, Map<String, String> placeholders) {
        return fill(name, snippet(name), placeholders);
    }

    /** Every fenced block of a Markdown file, in order, with the "## " section it belongs to. */
    static List<Block> blocks(Path markdown) {
        List<String> lines;
        try {
            lines = Files.readAllLines(markdown);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Block> blocks = new ArrayList<>();
        String section = "";
        String marker = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("## ")) {
                section = line.substring(3).trim();
            }
            Matcher m = MARKER.matcher(line.trim());
            if (m.matches()) {
                marker = m.group(1);
                continue;
            }
            Matcher fence = FENCE.matcher(line);
            if (fence.matches()) {
                String indent = fence.group(1);
                int start = i;
                StringBuilder text = new StringBuilder();
                for (i++; i < lines.size() && !lines.get(i).trim().equals("```"); i++) {
                    String content = lines.get(i);
                    text.append(content.startsWith(indent) ? content.substring(indent.length()) : content.trim()).append('\n');
                }
                blocks.add(new Block(marker, fence.group(2), text.toString(), section, start + 1));
                marker = null;
            } else if (!line.isBlank()) {
                marker = null;   // a marker applies to the block right after it only
            }
        }
        return blocks;
    }

    /** The marked blocks of docs/deployment.md by name, in order. */
    static Map<String, Block> marked() {
        Map<String, Block> named = new LinkedHashMap<>();
        for (Block b : blocks(DEPLOYMENT)) {
            if (b.name() != null && named.put(b.name(), b) != null) {
                throw new AssertionError("two blocks are marked " + b.name());
            }
        }
        return named;
    }
}

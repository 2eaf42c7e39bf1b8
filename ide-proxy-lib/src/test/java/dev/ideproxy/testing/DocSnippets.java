package dev.ideproxy.testing;

import java.io.File;
import java.io.IOException;
import java.util.Map;
import java.util.LinkedHashMap;
import java.io.UncheckedIOException;
import java.io.StringWriter;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Code blocks of the docs, taken verbatim so that what the docs show is what the tests run: a fenced
 * block marked by an HTML comment {@code <!-- snippet: name -->} on the line before it. Java snippets
 * compile against the test class path into a directory of their own.
 */
public final class DocSnippets {
    private static final Path DOCS = Path.of("..", "docs");
    private static final Pattern MARKER = Pattern.compile("^<!-- snippet: ([a-z0-9-]+) -->$");
    private static final Pattern FENCE = Pattern.compile("^(\\s*)```(\\S*)\\s*$");
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern TYPE = Pattern.compile("^public\\s+(?:final\\s+|abstract\\s+)*(?:class|interface|record|enum)\\s+(\\w+)",
            Pattern.MULTILINE);

    private DocSnippets() {
    }

    /** A fenced block: its marker's name (null when unmarked), language, text and the "## " section it is in. */
    public record Block(String name, String language, String text, String section, int line) {
    }

    /** The body of the fenced block marked {@code name} in {@code docs/<doc>}, with a final newline. */
    public static String snippet(String doc, String name) {
        Block block = marked(DOCS.resolve(doc)).get(name);
        if (block == null) {
            throw new AssertionError(doc + " has no block marked <!-- snippet: " + name + " -->");
        }
        return block.text();
    }

    /**
     * {@code text} with each placeholder replaced, failing when one is missing: renaming a
     * placeholder in the docs must break the test rather than leave the value untouched.
     */
    public static String fill(String name, String text, Map<String, String> placeholders) {
        String result = text;
        for (Map.Entry<String, String> p : placeholders.entrySet()) {
            if (!result.contains(p.getKey())) {
                throw new AssertionError("snippet " + name + " no longer contains the placeholder '" + p.getKey() + "':\n" + text);
            }
            result = result.replace(p.getKey(), p.getValue());
        }
        return result;
    }

    /** Every fenced block of a Markdown file, in order (an indented block loses its indentation). */
    public static List<Block> blocks(Path markdown) {
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
                if (i >= lines.size()) {
                    throw new AssertionError(markdown + ": the block at line " + (start + 1) + " is not closed");
                }
                blocks.add(new Block(marker, fence.group(2), text.toString(), section, start + 1));
                marker = null;
            } else if (!line.isBlank()) {
                marker = null; // a marker applies to the block right after it only
            }
        }
        return blocks;
    }

    /** The marked blocks of a Markdown file by name, in order; a name marked twice fails. */
    public static Map<String, Block> marked(Path markdown) {
        Map<String, Block> named = new LinkedHashMap<>();
        for (Block b : blocks(markdown)) {
            if (b.name() != null && named.put(b.name(), b) != null) {
                throw new AssertionError(markdown + ": two blocks are marked " + b.name());
            }
        }
        return named;
    }

    /**
     * Compiles Java sources (each a complete compilation unit) into {@code classes} against the test
     * class path, and answers a class loader over them whose parent is the test's.
     *
     * @throws AssertionError with javac's diagnostics when they do not compile
     */
    public static URLClassLoader compile(Path classes, List<String> sources) throws IOException {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<Path> files = new ArrayList<>();
        Path src = Files.createDirectories(classes.resolveSibling(classes.getFileName() + "-src"));
        for (String source : sources) {
            Matcher pkg = PACKAGE.matcher(source);
            Matcher type = TYPE.matcher(source);
            if (!type.find()) {
                throw new AssertionError("no public type in:\n" + source);
            }
            Path dir = pkg.find() ? src.resolve(pkg.group(1).replace('.', File.separatorChar)) : src;
            files.add(Files.writeString(Files.createDirectories(dir).resolve(type.group(1) + ".java"), source));
        }
        Files.createDirectories(classes);
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StringWriter out = new StringWriter();
        try (StandardJavaFileManager fm = javac.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
            boolean ok = javac.getTask(out, fm, diagnostics, List.of("-classpath", testClassPath(), "-d", classes.toString(),
                    "-Xlint:all", "-Werror", "-proc:none"), null, fm.getJavaFileObjectsFromPaths(files)).call();
            if (!ok) {
                StringBuilder report = new StringBuilder("the snippets do not compile:\n").append(out);
                diagnostics.getDiagnostics().forEach(d -> report.append(d).append('\n'));
                throw new AssertionError(report.toString());
            }
        }
        return new URLClassLoader(new java.net.URL[] {classes.toUri().toURL()}, DocSnippets.class.getClassLoader());
    }

    /** The test class path, for javac. */
    static String testClassPath() {
        return String.join(File.pathSeparator, TestClassPath.entries().stream().map(Path::toString).toList());
    }
}

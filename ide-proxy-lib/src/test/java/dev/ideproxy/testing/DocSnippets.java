package dev.ideproxy.testing;

import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
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
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern TYPE = Pattern.compile("^public\\s+(?:final\\s+|abstract\\s+)*(?:class|interface|record|enum)\\s+(\\w+)",
            Pattern.MULTILINE);

    private DocSnippets() {
    }

    /** The body of the fenced block marked {@code name} in {@code docs/<doc>}. */
    public static String snippet(String doc, String name) throws IOException {
        List<String> lines = Files.readAllLines(DOCS.resolve(doc));
        String marker = "<!-- snippet: " + name + " -->";
        int at = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).trim().equals(marker)) {
                if (at >= 0) {
                    throw new AssertionError(doc + ": snippet " + name + " is marked twice");
                }
                at = i;
            }
        }
        if (at < 0 || at + 1 >= lines.size() || !lines.get(at + 1).startsWith("```")) {
            throw new AssertionError(doc + ": no fenced block right after " + marker);
        }
        StringBuilder body = new StringBuilder();
        for (int i = at + 2; i < lines.size(); i++) {
            if (lines.get(i).startsWith("```")) {
                return body.toString();
            }
            body.append(lines.get(i)).append('\n');
        }
        throw new AssertionError(doc + ": the block after " + marker + " is not closed");
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

    /** The test class path, read from the manifest of Surefire's booter jar when it stands in for it. */
    static String testClassPath() throws IOException {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (entry.endsWith(".jar") && path.getFileName().toString().startsWith("surefirebooter")) {
                try (JarFile jar = new JarFile(path.toFile())) {
                    Manifest manifest = jar.getManifest();
                    String classPath = manifest == null ? null : manifest.getMainAttributes().getValue("Class-Path");
                    if (classPath != null) {
                        for (String url : classPath.trim().split("\\s+")) {
                            entries.add(Path.of(path.toUri().resolve(url)).toString());
                        }
                        continue;
                    }
                }
            }
            entries.add(entry);
        }
        return String.join(File.pathSeparator, entries);
    }
}

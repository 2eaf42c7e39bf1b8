package dev.ideproxy.war;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The fenced code blocks of docs/deployment.md, by the name of the {@code <!-- snippet: name -->}
 * marker just before each (read by the library's {@link dev.ideproxy.testing.DocSnippets}). The
 * distribution tests deploy with exactly these texts, so that what a reader pastes is what was
 * tested; the only changes are {@link dev.ideproxy.testing.DocSnippets#fill placeholders} named in the docs.
 */
final class DocSnippets {
    static final Path DEPLOYMENT = Path.of(System.getProperty("basedir", "."), "..", "docs", "deployment.md").normalize();

    private DocSnippets() {
    }

    /** The text of the block marked {@code name} in docs/deployment.md, with a final newline. */
    static String snippet(String name) {
        return dev.ideproxy.testing.DocSnippets.snippet("deployment.md", name);
    }

    /** The block marked {@code name}, its placeholders replaced. */
    static String snippet(String name, Map<String, String> placeholders) {
        return dev.ideproxy.testing.DocSnippets.fill(name, snippet(name), placeholders);
    }

    /** Every fenced block of docs/deployment.md, in order. */
    static List<dev.ideproxy.testing.DocSnippets.Block> blocks() {
        return dev.ideproxy.testing.DocSnippets.blocks(DEPLOYMENT);
    }

    /** The marked blocks of docs/deployment.md by name, in order. */
    static Map<String, dev.ideproxy.testing.DocSnippets.Block> marked() {
        return dev.ideproxy.testing.DocSnippets.marked(DEPLOYMENT);
    }
}

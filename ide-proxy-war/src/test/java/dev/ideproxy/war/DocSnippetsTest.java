package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every code block of docs/deployment.md's container sections is marked and deployed by the
 * distribution tests ({@link Distribution#startAsDocumented}), so a new block cannot be added
 * without being tested, and a marked block cannot be left unused.
 */
class DocSnippetsTest {
    /** The container sections: their blocks are configuration a reader pastes into Tomcat or Jetty. */
    private static final Pattern CONTAINER_SECTION = Pattern.compile("(?i).*\\b(tomcat|jetty|container)\\b.*");

    @Test
    void everyBlockOfTheContainerSectionsIsMarked() {
        List<dev.ideproxy.testing.DocSnippets.Block> container = DocSnippets.blocks().stream()
                .filter(b -> CONTAINER_SECTION.matcher(b.section()).matches()).toList();
        assertTrue(container.size() >= Distribution.DOCUMENTED_SNIPPETS.size(), "the container sections were found: " + container);
        for (dev.ideproxy.testing.DocSnippets.Block block : container) {
            assertTrue(block.name() != null, "docs/deployment.md line " + block.line() + " (" + block.section()
                    + "): a ```" + block.language() + " block without <!-- snippet: name --> before it, so no test uses it."
                    + " Mark it and use it in Distribution.startAsDocumented.");
        }
    }

    @Test
    void theMarkedBlocksAreExactlyTheOnesTheDistributionTestsDeploy() {
        assertEquals(Distribution.DOCUMENTED_SNIPPETS, List.copyOf(DocSnippets.marked().keySet()));
        DocSnippets.marked().values().forEach(b -> assertTrue(List.of("sh", "xml", "ini").contains(b.language()),
                b.name() + " is a ```" + b.language() + " block"));
    }

    @Test
    void eachPlaceholderTheTestsReplaceIsInTheDocs() {
        String context = DocSnippets.snippet("tomcat-context") + DocSnippets.snippet("jetty-context");
        assertTrue(context.contains(Distribution.TOKEN_SECRET_PLACEHOLDER) && context.contains(Distribution.PORTAL_SECRET_PLACEHOLDER), context);
        assertTrue(DocSnippets.snippet("jetty-install").contains(Distribution.JETTY_HOME_PLACEHOLDER));
        assertTrue(DocSnippets.snippet("tomcat-install").contains(Distribution.WAR_PLACEHOLDER));
    }

    @Test
    void aRenamedPlaceholderFailsRatherThanDeployingThePlaceholder() {
        AssertionError error = assertThrows(AssertionError.class,
                () -> dev.ideproxy.testing.DocSnippets.fill("example", "<Arg>…the secret…</Arg>", Map.of("…a secret…", "s3cret")));
        assertTrue(error.getMessage().contains("…a secret…"), error.getMessage());
        assertEquals("<Arg>s3cret</Arg>", dev.ideproxy.testing.DocSnippets.fill("example", "<Arg>…a secret…</Arg>", Map.of("…a secret…", "s3cret")));
    }
}

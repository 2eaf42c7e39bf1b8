package dev.ideproxy.internal.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.config.ConfigException;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WorkspaceOriginsTest {

    /** The origins of a configuration whose {@code workspace.origin} is {@code template} (parsed by the configuration). */
    private static WorkspaceOrigins parse(String template) {
        return WorkspaceOrigins.from(IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, "0123456789abcdef0123456789abcdef")
                .set(ConfigOption.WORKSPACE_ORIGIN, template).build());
    }

    @Test
    void pathModeAddressesEveryWorkspaceRelatively() {
        WorkspaceOrigins path = parse(null);
        assertFalse(path.perWorkspace());
        assertEquals("", path.prefix("42"));
        assertTrue(path.canServe("Any_Id"));
    }

    @Test
    void hostModeGivesEachWorkspaceItsOrigin() {
        WorkspaceOrigins host = parse("https://{id}.IDE.example.net/");
        assertTrue(host.perWorkspace());
        assertEquals("https://42.ide.example.net", host.prefix("42"));
        assertEquals("http://a-b.ide.test:8443", parse("http://{id}.ide.test:8443").prefix("a-b"));
    }

    @Test
    void theHostHeadersNameIsComparedWithoutItsPort() {
        assertEquals("a.ide.test", WorkspaceOrigins.hostName("a.ide.test:8443"));
        assertEquals("a.ide.test", WorkspaceOrigins.hostName("a.ide.test"));
        assertEquals(null, WorkspaceOrigins.hostName("[::1]:8080"));
        assertEquals(null, WorkspaceOrigins.hostName(""));
        assertEquals(null, WorkspaceOrigins.hostName(null));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "42", "a-b", "x1y2"})
    void lowerCaseDnsLabelsCanBeServed(String id) {
        assertTrue(parse("https://{id}.ide.example.net").canServe(id));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Up", "a_b", "-a", "a-", "a.b"})
    void otherIdsCannotBeGivenAnOrigin(String id) {
        assertFalse(parse("https://{id}.ide.example.net").canServe(id));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{id}.ide.example.net",                 // no scheme
            "ftp://{id}.ide.example.net",           // not http(s)
            "https://ide.example.net",              // no {id}
            "https://ide-{id}.example.net",         // {id} not the whole first label
            "https://{id}.{id}.example.net",        // twice
            "https://ide.example.net/{id}",         // in the path
            "https://{id}.ide.example.net/ide",     // a path
            "https://{id}.ide.example.net?x=1",     // a query
            "https://user@{id}.ide.example.net",    // user info
            "https://{id}",                         // nothing above the workspace label
            "https://{id}.ide example.net"})        // not a host
    void aTemplateThatIsNotAnOriginWithIdAsItsFirstLabelIsRefused(String template) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(template));
        assertTrue(e.getMessage().contains("workspace.origin"), e.getMessage());
    }
}

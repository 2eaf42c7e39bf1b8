package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * The WAR must not clash with the container: no Servlet or WebSocket API jars (the container's own
 * must be used), no container implementation in WEB-INF/lib, and the standalone Jetty kept where
 * containers do not look.
 */
class WarContentsIT {

    @Test
    void webInfLibHoldsNoContainerApiOrImplementation() throws Exception {
        try (JarFile war = new JarFile(StandaloneWarIT.WAR.toFile())) {
            List<String> lib = war.stream().map(ZipEntry::getName)
                    .filter(n -> n.startsWith("WEB-INF/lib/") && n.endsWith(".jar")).toList();
            assertTrue(lib.stream().anyMatch(n -> n.contains("ide-proxy-lib")), lib.toString());
            List<String> clashing = lib.stream().filter(n -> n.contains("jakarta.servlet") || n.contains("jakarta.websocket")
                    || n.contains("tomcat") || n.contains("jetty-server") || n.contains("jetty-ee10-servlet")
                    || n.contains("websocket-jakarta") || n.contains("jetty-ee10-webapp")).toList();
            assertEquals(List.of(), clashing, "jars that belong to the container");
            assertTrue(war.stream().noneMatch(e -> e.getName().startsWith("WEB-INF/classes/jakarta/")));
            assertTrue(war.stream().anyMatch(e -> e.getName().startsWith("WEB-INF/standalone/jetty-server-")));
            assertEquals("dev.ideproxy.launcher.Launcher", war.getManifest().getMainAttributes().getValue("Main-Class"));
        }
    }
}

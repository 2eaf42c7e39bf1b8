package dev.ideproxy.example.springboot;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Stands in for the portal's own record of where each workspace runs (a database, an orchestrator's
 * API). Here: the property {@code example.workspaces}, comma-separated {@code id=uri} pairs.
 */
@Component
public class WorkspaceRegistry {
    private final Map<String, String> upstreams = new LinkedHashMap<>();

    public WorkspaceRegistry(@Value("${example.workspaces:}") String workspaces) {
        for (String pair : workspaces.split(",")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                upstreams.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
            }
        }
    }

    /** The workspace's upstream base URI, or empty when the portal does not know the workspace. */
    public Optional<String> upstreamOf(String workspaceId) {
        return Optional.ofNullable(upstreams.get(workspaceId));
    }
}

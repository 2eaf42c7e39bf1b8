package dev.ideproxy.example;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The portal's workspace registry; in a real portal, a database or the container orchestrator.
 * Read from {@code owner:id=uri} entries, comma-separated. Immutable.
 */
final class Workspaces {
    record Workspace(String id, String owner, String upstream) {
    }

    private final Map<String, Workspace> byId;

    private Workspaces(Map<String, Workspace> byId) {
        this.byId = Map.copyOf(byId);
    }

    static Workspaces from(String spec) {
        Map<String, Workspace> map = new HashMap<>();
        if (spec != null) {
            for (String entry : spec.split(",")) {
                String[] ownerRest = entry.trim().split(":", 2);
                String[] idUri = ownerRest[1].split("=", 2);
                map.put(idUri[0], new Workspace(idUri[0], ownerRest[0], idUri[1]));
            }
        }
        return new Workspaces(map);
    }

    Optional<Workspace> find(String id) {
        return Optional.ofNullable(byId.get(id));
    }
}

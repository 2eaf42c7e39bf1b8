package dev.ideproxy.target;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** A fixed map of workspace ids to upstreams, checked when built. Immutable and thread-safe. */
public final class StaticTargetResolver implements TargetResolver {
    private final Map<String, Target> targets;

    /**
     * @param targets workspace id to base URI ({@code http://10.0.0.5:8080})
     * @throws IllegalArgumentException naming the first invalid entry
     */
    public StaticTargetResolver(Map<String, String> targets) {
        Map<String, Target> parsed = new LinkedHashMap<>();
        targets.forEach((id, uri) -> {
            try {
                parsed.put(id, Target.of(id, uri));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("workspace '" + id + "': " + e.getMessage(), e);
            }
        });
        this.targets = Map.copyOf(parsed);
    }

    @Override
    public Optional<Target> resolve(String workspaceId) {
        return Optional.ofNullable(targets.get(workspaceId));
    }
}

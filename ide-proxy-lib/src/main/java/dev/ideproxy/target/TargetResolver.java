package dev.ideproxy.target;

import java.util.Optional;

/**
 * Maps a workspace id to the upstream its IDE listens on. Asked once per request (HTTP request or
 * WebSocket upgrade); the answer travels with that request and is never replaced by a default.
 *
 * <p>Implementations must be thread-safe, should answer quickly (they run on a container thread)
 * and must return {@link Optional#empty()} for a workspace they do not know: ide-proxy then answers
 * 404 and contacts nothing.
 */
@FunctionalInterface
public interface TargetResolver {

    /**
     * @param workspaceId an id that already matches the configured id pattern
     * @return the workspace's upstream, or empty when unknown
     */
    Optional<Target> resolve(String workspaceId);

    /** Asks this resolver, then {@code next} when this one does not know the workspace. */
    default TargetResolver orElse(TargetResolver next) {
        return id -> {
            Optional<Target> target = resolve(id);
            return target.isPresent() ? target : next.resolve(id);
        };
    }
}

package dev.ideproxy.target;

import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Builds the upstream from a URI template in which {@code {id}} stands for the workspace id, e.g.
 * {@code http://dev-{id}.internal:8080}. Only ids made of letters, digits, {@code _} and {@code -} are
 * substituted, whatever the configured id pattern allows, so an id can never change the host's
 * structure (no dots, colons, slashes or {@code @}). Immutable and thread-safe.
 */
public final class TemplateTargetResolver implements TargetResolver {
    /** The placeholder replaced by the workspace id. */
    public static final String PLACEHOLDER = "{id}";
    private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9_-]{1,63}");

    private final String template;

    /** @throws IllegalArgumentException when the template lacks {@code {id}} or is not an http(s) URI */
    public TemplateTargetResolver(String template) {
        if (template == null || !template.contains(PLACEHOLDER)) {
            throw new IllegalArgumentException("target template must contain " + PLACEHOLDER);
        }
        Target.of("sample", template.replace(PLACEHOLDER, "sample"));
        this.template = template.trim();
    }

    @Override
    public Optional<Target> resolve(String workspaceId) {
        if (workspaceId == null || !SAFE_ID.matcher(workspaceId).matches()) {
            return Optional.empty();
        }
        return Optional.of(Target.of(workspaceId, template.replace(PLACEHOLDER, workspaceId)));
    }
}

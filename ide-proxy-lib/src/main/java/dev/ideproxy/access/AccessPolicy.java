package dev.ideproxy.access;

import jakarta.servlet.http.HttpServletRequest;
import java.util.List;

/**
 * Decides whether the caller of the token-mint endpoint may open a workspace. This is where a host
 * application plugs in its own authentication.
 *
 * <p>Implementations must be thread-safe and must not read the request body.
 */
@FunctionalInterface
public interface AccessPolicy {

    /**
     * @param request     the mint request ({@code POST /api/dev/{id}/ide-token})
     * @param workspaceId the workspace asked for; already matches the configured id pattern
     * @return the decision; never null
     */
    AccessDecision check(HttpServletRequest request, String workspaceId);

    /**
     * Asks each policy in order: the first that allows wins; otherwise FORBIDDEN if any policy
     * recognised the caller, else UNAUTHENTICATED.
     */
    static AccessPolicy firstAllowing(List<AccessPolicy> policies) {
        List<AccessPolicy> copy = List.copyOf(policies);
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("at least one access policy is required");
        }
        if (copy.size() == 1) {
            return copy.get(0);
        }
        return (request, workspaceId) -> {
            AccessDecision forbidden = null;
            AccessDecision unauthenticated = null;
            for (AccessPolicy policy : copy) {
                AccessDecision decision = policy.check(request, workspaceId);
                switch (decision.outcome()) {
                    case ALLOW -> {
                        return decision;
                    }
                    case FORBIDDEN -> forbidden = forbidden == null ? decision : forbidden;
                    default -> unauthenticated = unauthenticated == null ? decision : unauthenticated;
                }
            }
            return forbidden != null ? forbidden : unauthenticated;
        };
    }
}

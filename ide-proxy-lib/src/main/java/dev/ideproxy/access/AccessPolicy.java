package dev.ideproxy.access;

import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.function.Function;

/**
 * Decides whether the caller of the token-mint endpoint may open a workspace. This is where a host
 * application plugs in its own authentication. The same decision serves the other endpoints about one
 * workspace (revoke, {@code GET /api/dev/{id}/activity}); {@link #checkAdmin} decides the endpoints
 * about every workspace ({@code GET /api/activity}).
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
     * Decides whether the caller may use the administrative endpoints, which concern every workspace
     * ({@code GET /api/activity}, for an idle culler): {@link AccessDecision.Outcome#ALLOW ALLOW} for an
     * administrator, {@link AccessDecision.Outcome#FORBIDDEN FORBIDDEN} (403) for another authenticated
     * caller, {@link AccessDecision.Outcome#UNAUTHENTICATED UNAUTHENTICATED} (401) otherwise.
     *
     * <p>The default grants no one (403): a policy that knows administrators overrides it.
     *
     * @param request the request to an administrative endpoint
     * @return the decision; never null
     */
    default AccessDecision checkAdmin(HttpServletRequest request) {
        return AccessDecision.forbidden(null, "this access policy grants no administrative access");
    }

    /**
     * Asks each policy in order: the first that allows wins; otherwise FORBIDDEN if any policy
     * recognised the caller, else UNAUTHENTICATED. The same holds for {@link #checkAdmin}.
     */
    static AccessPolicy firstAllowing(List<AccessPolicy> policies) {
        List<AccessPolicy> copy = List.copyOf(policies);
        if (copy.isEmpty()) {
            throw new IllegalArgumentException("at least one access policy is required");
        }
        if (copy.size() == 1) {
            return copy.get(0);
        }
        return new AccessPolicy() {
            @Override
            public AccessDecision check(HttpServletRequest request, String workspaceId) {
                return first(copy, policy -> policy.check(request, workspaceId));
            }

            @Override
            public AccessDecision checkAdmin(HttpServletRequest request) {
                return first(copy, policy -> policy.checkAdmin(request));
            }
        };
    }

    private static AccessDecision first(List<AccessPolicy> policies, Function<AccessPolicy, AccessDecision> ask) {
        AccessDecision forbidden = null;
        AccessDecision unauthenticated = null;
        for (AccessPolicy policy : policies) {
            AccessDecision decision = ask.apply(policy);
            switch (decision.outcome()) {
                case ALLOW -> {
                    return decision;
                }
                case FORBIDDEN -> forbidden = forbidden == null ? decision : forbidden;
                default -> unauthenticated = unauthenticated == null ? decision : unauthenticated;
            }
        }
        return forbidden != null ? forbidden : unauthenticated;
    }
}

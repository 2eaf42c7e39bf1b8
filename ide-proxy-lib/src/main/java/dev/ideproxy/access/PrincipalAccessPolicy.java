package dev.ideproxy.access;

import jakarta.servlet.http.HttpServletRequest;
import java.security.Principal;
import java.util.Objects;

/**
 * Trusts the servlet container's authentication ({@link HttpServletRequest#getUserPrincipal()}): the
 * user needs the role given by a template in which {@code {id}} stands for the workspace id, or any
 * authenticated user is allowed when the template is {@code *}. Thread-safe.
 */
public final class PrincipalAccessPolicy implements AccessPolicy {
    /** Template value that lets any authenticated user open any workspace. */
    public static final String ANY_USER = "*";

    private final String roleTemplate;

    public PrincipalAccessPolicy(String roleTemplate) {
        this.roleTemplate = Objects.requireNonNull(roleTemplate, "roleTemplate");
    }

    @Override
    public AccessDecision check(HttpServletRequest request, String workspaceId) {
        Principal principal = request.getUserPrincipal();
        if (principal == null || principal.getName() == null) {
            return AccessDecision.unauthenticated("not signed in");
        }
        String user = principal.getName();
        if (ANY_USER.equals(roleTemplate)) {
            return AccessDecision.allow(user);
        }
        String role = roleTemplate.replace("{id}", workspaceId);
        return request.isUserInRole(role)
                ? AccessDecision.allow(user)
                : AccessDecision.forbidden(user, "this account may not open workspace " + workspaceId);
    }
}

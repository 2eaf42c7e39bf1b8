package dev.ideproxy.access;

import jakarta.servlet.http.HttpServletRequest;
import java.security.Principal;
import java.util.Objects;

/**
 * Trusts the servlet container's authentication ({@link HttpServletRequest#getUserPrincipal()}): the
 * user needs the role given by a template in which {@code {id}} stands for the workspace id, or any
 * authenticated user is allowed when the template is {@code *}. A user in the admin role (by default
 * {@value #DEFAULT_ADMIN_ROLE}) may use the administrative endpoints ({@link #checkAdmin}). Thread-safe.
 */
public final class PrincipalAccessPolicy implements AccessPolicy {
    /** Template value that lets any authenticated user open any workspace. */
    public static final String ANY_USER = "*";
    /** The role that grants the administrative endpoints, unless given otherwise. */
    public static final String DEFAULT_ADMIN_ROLE = "ide-proxy-admin";

    private final String roleTemplate;
    private final String adminRole;

    /** @param roleTemplate the role a user needs for workspace {@code {id}}, or {@value #ANY_USER} */
    public PrincipalAccessPolicy(String roleTemplate) {
        this(roleTemplate, DEFAULT_ADMIN_ROLE);
    }

    /**
     * @param roleTemplate the role a user needs for workspace {@code {id}}, or {@value #ANY_USER}
     * @param adminRole    the role that grants the administrative endpoints
     */
    public PrincipalAccessPolicy(String roleTemplate, String adminRole) {
        this.roleTemplate = Objects.requireNonNull(roleTemplate, "roleTemplate");
        this.adminRole = Objects.requireNonNull(adminRole, "adminRole");
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

    /** Allows a signed-in user in the admin role; {@value #ANY_USER} does not make everyone an administrator. */
    @Override
    public AccessDecision checkAdmin(HttpServletRequest request) {
        Principal principal = request.getUserPrincipal();
        if (principal == null || principal.getName() == null) {
            return AccessDecision.unauthenticated("not signed in");
        }
        return request.isUserInRole(adminRole)
                ? AccessDecision.allow(principal.getName())
                : AccessDecision.forbidden(principal.getName(), "this account has no administrative access");
    }
}

package dev.ideproxy.access;

import java.util.Objects;

/**
 * The answer of an {@link AccessPolicy}.
 *
 * @param outcome whether the caller may open the workspace
 * @param user    the authenticated user, when known (null when unauthenticated)
 * @param reason  a short explanation, safe to send to the caller (never a token or key)
 */
public record AccessDecision(Outcome outcome, String user, String reason) {

    /** What the policy decided. */
    public enum Outcome {
        /** The caller is authenticated and may open the workspace. */
        ALLOW,
        /** The caller is authenticated but may not open the workspace (403). */
        FORBIDDEN,
        /** The caller is not authenticated, or not in a way this policy understands (401). */
        UNAUTHENTICATED
    }

    public AccessDecision {
        Objects.requireNonNull(outcome, "outcome");
        if (outcome == Outcome.ALLOW && (user == null || user.isEmpty())) {
            throw new IllegalArgumentException("an allowed caller needs a user name");
        }
    }

    public static AccessDecision allow(String user) {
        return new AccessDecision(Outcome.ALLOW, user, "allowed");
    }

    public static AccessDecision forbidden(String user, String reason) {
        return new AccessDecision(Outcome.FORBIDDEN, user, reason);
    }

    public static AccessDecision unauthenticated(String reason) {
        return new AccessDecision(Outcome.UNAUTHENTICATED, null, reason);
    }

    public boolean allowed() {
        return outcome == Outcome.ALLOW;
    }
}

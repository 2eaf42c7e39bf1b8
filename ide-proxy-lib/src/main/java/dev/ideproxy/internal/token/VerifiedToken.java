package dev.ideproxy.internal.token;

import java.time.Instant;

/**
 * The claims of a token that verified.
 *
 * @param type         bootstrap or session
 * @param workspaceId  the workspace the token is for (its audience)
 * @param user         the user it was issued to (its subject)
 * @param tokenId      its unique id ({@code jti})
 * @param expiresAt    when it stops being valid
 * @param sessionStart for a session token, when its session began (the portal's decision: the mint of
 *                     the bootstrap token that opened it); renewals keep it, and the session ends at the
 *                     latest one maximum lifetime after it. For a bootstrap token, when it was issued:
 *                     the start of the session it opens.
 */
public record VerifiedToken(TokenType type, String workspaceId, String user, String tokenId, Instant expiresAt,
                            Instant sessionStart) {
}

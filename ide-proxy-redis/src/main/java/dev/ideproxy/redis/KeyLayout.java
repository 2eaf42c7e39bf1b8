package dev.ideproxy.redis;

import java.util.Objects;

/**
 * Where the stores keep their data in Redis. Keys hold ids only (token ids, workspace ids, user
 * names), never tokens or cookies:
 * <ul>
 *   <li>{@code <prefix>used:<tokenId>}: a used bootstrap token, value {@code 1}, expiring with the token;</li>
 *   <li>{@code <prefix>revoked:<workspace|*>:<user|*>}: a revocation, value its instant (ISO-8601),
 *   expiring when no session it ends can still be valid ({@code *} = any);</li>
 *   <li>channel {@code <prefix>revocations}: each revocation announced to every node;</li>
 *   <li>{@code <prefix>activity}: a sorted set of workspace ids scored by their last activity (ms since
 *   the epoch);</li>
 *   <li>{@code <prefix>activity:<workspace>}: a hash of the workspace's last activity ({@code at}, ms),
 *   its user ({@code user}) and each node's live WebSockets ({@code n:<node id>}: count and expiry).</li>
 * </ul>
 * In a workspace id or user name, {@code %}, {@code :} and {@code *} are written {@code %25},
 * {@code %3A} and {@code %2A}, so that a key names exactly one workspace and one user.
 */
final class KeyLayout {
    static final String ANY = "*";

    private final String prefix;

    KeyLayout(String prefix) {
        this.prefix = Objects.requireNonNull(prefix, "prefix");
    }

    String prefix() {
        return prefix;
    }

    String used(String tokenId) {
        return prefix + "used:" + tokenId;
    }

    /** The part after {@code <prefix>revoked:}: {@code <workspace|*>:<user|*>}. */
    static String revocationSuffix(String workspaceId, String user) {
        return part(workspaceId) + ":" + part(user);
    }

    String revoked(String workspaceId, String user) {
        return prefix + "revoked:" + revocationSuffix(workspaceId, user);
    }

    /** A SCAN pattern matching every revocation key (the prefix's glob characters escaped). */
    String revokedPattern() {
        StringBuilder p = new StringBuilder();
        for (char c : (prefix + "revoked:").toCharArray()) {
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
                p.append('\\');
            }
            p.append(c);
        }
        return p.append('*').toString();
    }

    String channel() {
        return prefix + "revocations";
    }

    String activityIndex() {
        return prefix + "activity";
    }

    String activity(String workspaceId) {
        return prefix + "activity:" + part(workspaceId);
    }

    /** The workspace and user of a revocation key, or null when {@code key} is not one. */
    RevocationKey parseRevoked(String key) {
        String head = prefix + "revoked:";
        return key.startsWith(head) ? parseSuffix(key.substring(head.length())) : null;
    }

    /** The workspace and user of {@code <workspace|*>:<user|*>}, or null when malformed. */
    static RevocationKey parseSuffix(String suffix) {
        int colon = suffix.indexOf(':');
        if (colon < 0 || suffix.indexOf(':', colon + 1) >= 0) {
            return null;
        }
        String workspace = unpart(suffix.substring(0, colon));
        String user = unpart(suffix.substring(colon + 1));
        if (workspace == null && user == null) {
            return null;
        }
        return new RevocationKey(workspace, user);
    }

    /** A revocation's scope; null stands for any workspace or any user. */
    record RevocationKey(String workspaceId, String user) {
    }

    private static String part(String value) {
        if (value == null) {
            return ANY;
        }
        StringBuilder out = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '%' -> out.append("%25");
                case ':' -> out.append("%3A");
                case '*' -> out.append("%2A");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    private static String unpart(String part) {
        if (part.equals(ANY)) {
            return null;
        }
        StringBuilder out = new StringBuilder(part.length());
        for (int i = 0; i < part.length(); i++) {
            char c = part.charAt(i);
            if (c == '%' && i + 2 < part.length()) {
                String code = part.substring(i + 1, i + 3);
                switch (code) {
                    case "25" -> out.append('%');
                    case "3A" -> out.append(':');
                    case "2A" -> out.append('*');
                    default -> out.append(c).append(code);
                }
                i += 2;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}

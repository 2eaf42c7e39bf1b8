package dev.ideproxy.internal.token;

/** The two kinds of token ide-proxy signs, told apart by the {@code typ} claim. */
public enum TokenType {
    /** Short-lived, carried in the bootstrap URL, exchanged once for a session cookie. */
    BOOTSTRAP("ide-bootstrap"),
    /** Carried in the HttpOnly session cookie, scoped to one workspace's tunnel. */
    SESSION("ide-session");

    private final String claim;

    TokenType(String claim) {
        this.claim = claim;
    }

    /** The value of the {@code typ} claim. */
    public String claim() {
        return claim;
    }
}

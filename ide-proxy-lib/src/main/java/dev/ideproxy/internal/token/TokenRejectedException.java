package dev.ideproxy.internal.token;

/** A token that did not verify. {@link #reason()} says why, in words safe to show to the user. */
public final class TokenRejectedException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a token was refused. */
    public enum Reason {
        MISSING("no token was presented"),
        MALFORMED("the token is malformed"),
        BAD_SIGNATURE("the token's signature is invalid"),
        UNKNOWN_KEY("the token was signed with an unknown key"),
        EXPIRED("the token has expired"),
        SESSION_ENDED("the session has reached its maximum lifetime"),
        WRONG_WORKSPACE("the token was issued for another workspace"),
        WRONG_TYPE("the token is not of the expected kind"),
        ALREADY_USED("this link has already been used"),
        REVOKED("the session was ended by the portal"),
        REVOCATION_UNKNOWN("the session could not be checked");

        private final String text;

        Reason(String text) {
            this.text = text;
        }

        /** A short sentence fragment for error pages and logs; never contains token material. */
        public String text() {
            return text;
        }
    }

    private final Reason reason;

    public TokenRejectedException(Reason reason) {
        super(reason.text(), null, false, false);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}

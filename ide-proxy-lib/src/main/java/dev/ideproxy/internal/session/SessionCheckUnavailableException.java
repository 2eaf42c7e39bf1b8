package dev.ideproxy.internal.session;

/**
 * A session cookie verified, but whether its session was revoked could not be told (the revocation
 * store is down) and {@code session.revocation-unavailable} is {@code refuse}: the request is answered
 * 503 with {@code Retry-After}, not 401, since the session may well be fine.
 */
public final class SessionCheckUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    SessionCheckUnavailableException() {
        super("the revocation store cannot answer");
    }
}

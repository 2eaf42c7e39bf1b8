package dev.ideproxy.token;

/**
 * A {@link ReplayStore} cannot say whether a token was used (full, or its backend is down). The
 * bootstrap then fails closed: the token is refused with 503 and may be retried later.
 */
public final class ReplayStoreUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public ReplayStoreUnavailableException(String message) {
        super(message);
    }

    public ReplayStoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}

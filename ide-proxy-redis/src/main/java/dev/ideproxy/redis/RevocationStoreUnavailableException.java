package dev.ideproxy.redis;

/**
 * The {@link RedisRevocationStore} cannot say whether a session was revoked (its link to Redis was
 * lost and its local copy of the revocations is not synchronised again yet), or cannot record a
 * revocation. ide-proxy fails closed on it: the request is refused, a revoke answers 503. The message
 * never holds the Redis URI or its password.
 */
public final class RevocationStoreUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public RevocationStoreUnavailableException(String message) {
        super(message);
    }

    public RevocationStoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}

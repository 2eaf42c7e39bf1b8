package dev.ideproxy.redis;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one log line per Redis outage (WARN, at the first failure) and the one on recovery (INFO), for
 * both stores of one {@link RedisStores}; and the wording of failures without the URI's secrets.
 * Thread-safe.
 */
final class Outage {
    private static final Logger LOG = LoggerFactory.getLogger(RedisStores.class);

    private final String where;
    private final List<String> secrets;
    private final AtomicBoolean down = new AtomicBoolean();
    private volatile long downSince;
    private volatile BooleanSupplier healthy = () -> true;
    private volatile boolean closed;

    /**
     * @param where   the server, fit for a log line (host:port, never a password)
     * @param secrets strings that must never appear in a message (the URI's user info, its password)
     */
    Outage(String where, List<String> secrets) {
        this.where = where;
        this.secrets = secrets.stream().filter(s -> s != null && !s.isEmpty()).toList();
    }

    String where() {
        return where;
    }

    /** What must hold, besides a successful command, for the outage to be over (revocations synchronised). */
    void recoveredWhen(BooleanSupplier condition) {
        this.healthy = condition;
    }

    void close() {
        closed = true;
    }

    boolean isDown() {
        return down.get();
    }

    /** Something failed: logs the outage once, at its first failure. */
    void failed(String what, Throwable cause) {
        if (!closed && down.compareAndSet(false, true)) {
            downSince = System.nanoTime();
            LOG.warn("Redis at {} is unavailable ({}): used tokens and revocations cannot be checked, ide-proxy"
                    + " fails closed until it is back; reconnecting in the background", where,
                    cause == null ? what : what + ": " + reason(cause));
        }
    }

    /** Something succeeded: logs the recovery once, when the stores are whole again. */
    void succeeded() {
        if (!closed && down.get() && healthy.getAsBoolean() && down.compareAndSet(true, false)) {
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - downSince);
            LOG.info("Redis at {} is available again after {} s: used tokens and revocations are shared again",
                    where, seconds);
        }
    }

    /** A failure in one line: the exception's type and message, the URI's secrets masked. */
    String reason(Throwable cause) {
        if (cause == null) {
            return "no detail";
        }
        Throwable t = cause;
        // Lettuce wraps the interesting part (a refused connection, an error reply) one or two levels down.
        while ((t.getMessage() == null || t.getMessage().isBlank()) && t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? "" : t.getMessage();
        return mask(t.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message));
    }

    /** {@code text} on one line, with every secret replaced by {@code ****}. */
    String mask(String text) {
        String out = text;
        for (String secret : secrets) {
            out = out.replace(secret, "****");
        }
        return out.replaceAll("[\\r\\n\\t]+", " ").trim();
    }
}

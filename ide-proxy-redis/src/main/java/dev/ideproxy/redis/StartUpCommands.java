package dev.ideproxy.redis;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandInterruptedException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.api.StatefulConnection;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The commands of one start-up, each run again when its connection dropped under it and Lettuce
 * reconnected it: a connection lost between the handshake and the first command (a proxy or network
 * that drops it, a Redis that restarts) must not stop a node whose Redis is reachable. What Redis
 * answered (a refused password, a denied command) and timeouts are not retried; a connection that is
 * not back by the deadline, or drops {@link #ATTEMPTS} times, fails the start with its last error.
 */
final class StartUpCommands {
    private static final Logger LOG = LoggerFactory.getLogger(StartUpCommands.class);
    /** Tries per command: a connection dropping at every command is a Redis the node cannot use. */
    static final int ATTEMPTS = 3;
    private static final long POLL_MILLIS = 10;

    private final long deadline;

    /** Commands of a start-up that may last {@code within} from now. */
    StartUpCommands(Duration within) {
        this.deadline = System.nanoTime() + within.toNanos();
    }

    /** Runs {@code command} on {@code connection}, again after a drop and reconnection. */
    <T> T run(StatefulConnection<?, ?> connection, Supplier<T> command) {
        for (int attempt = 1; ; attempt++) {
            try {
                return command.get();
            } catch (RedisException e) {
                if (!isDrop(e) || attempt == ATTEMPTS || !awaitReconnected(connection)) {
                    throw e;
                }
                LOG.debug("a start-up command met a dropped connection ({}); reconnected, trying again", e.toString());
            }
        }
    }

    /** {@link #run(StatefulConnection, Supplier)} for a command whose result is not needed. */
    void run(StatefulConnection<?, ?> connection, Runnable command) {
        run(connection, () -> {
            command.run();
            return null;
        });
    }

    /**
     * Not an answer of Redis nor a timeout: Lettuce's "Connection disconnected", "Currently not
     * connected", "Connection closed", a closed channel.
     */
    private static boolean isDrop(RedisException e) {
        return !(e instanceof RedisCommandExecutionException) && !(e instanceof RedisCommandTimeoutException)
                && !(e instanceof RedisCommandInterruptedException);
    }

    private boolean awaitReconnected(StatefulConnection<?, ?> connection) {
        while (System.nanoTime() < deadline) {
            if (connection.isOpen()) {
                return true;
            }
            try {
                Thread.sleep(POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }
}

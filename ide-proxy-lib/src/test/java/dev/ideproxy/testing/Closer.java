package dev.ideproxy.testing;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a fixture opened, closed last first by {@link #close()}: a close that fails does not keep the
 * others from closing, and its exception is thrown at the end with the later ones added as suppressed.
 */
public final class Closer implements AutoCloseable {
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();

    /** Registers {@code resource} to be closed before everything registered earlier; returns it. */
    public <T extends AutoCloseable> T add(T resource) {
        resources.push(resource);
        return resource;
    }

    /**
     * Closes everything because {@code failure} happened while opening; a close that fails is added to
     * {@code failure} as suppressed. Returns {@code failure}, for {@code throw closer.closeAfter(e)}.
     */
    public <T extends Throwable> T closeAfter(T failure) {
        try {
            close();
        } catch (Exception closing) {
            failure.addSuppressed(closing);
        }
        return failure;
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}

package dev.ideproxy.internal.wire;

import java.util.function.Supplier;

/**
 * What a {@link BrowserWire} was asked to do before the container handed its connection over: kept,
 * in order, and run on {@link #release}; after that, operations run at once. Thread-safe.
 */
final class HandOver {
    // Guarded by this.
    private Runnable deferred;
    private boolean released;

    /**
     * Runs {@code op} for an operation that completes {@code done}: once released, and only if the
     * wire has not failed by then ({@code done} fails with {@code failure}'s cause instead), and
     * failing {@code done} if {@code op} throws.
     */
    <T> void submit(Wire.Completion<T> done, Supplier<Throwable> failure, Runnable op) {
        run(() -> {
            Throwable failed = failure.get();
            if (failed != null) {
                done.failed(failed);
                return;
            }
            try {
                op.run();
            } catch (RuntimeException e) {
                done.failed(e);
            }
        });
    }

    /** Runs {@code op} now if released, else once released. */
    void run(Runnable op) {
        synchronized (this) {
            if (!released) {
                Runnable before = deferred;
                deferred = before == null ? op : () -> {
                    before.run();
                    op.run();
                };
                return;
            }
        }
        op.run();
    }

    /** The connection was handed over (or never will be): runs what waited; later operations run at once. */
    void release() {
        Runnable pending;
        synchronized (this) {
            released = true;
            pending = deferred;
            deferred = null;
        }
        if (pending != null) {
            pending.run();
        }
    }

    synchronized boolean released() {
        return released;
    }
}

package dev.ideproxy.internal.wire;

import java.io.IOException;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One selector thread for the upstream sockets of passthrough relays ({@link ChannelWire}). Readiness
 * is handled on this thread; work from other threads arrives through {@link #execute}, which wakes
 * the selector only when it may be waiting.
 *
 * <p>Why not NIO.2's {@code AsynchronousChannelGroup}: it re-arms a one-shot registration for every
 * read ({@code epoll_ctl}) and hands the completion of a write started on a container thread to one
 * of its own threads. Here a read interest stays registered while the relay keeps reading, and a
 * write that the socket takes at once completes on the thread that made it.
 */
final class WireLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WireLoop.class);

    private final Selector selector;
    private final Thread thread;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Set once the selector was woken, until the loop has seen it: one wake-up per wait. */
    private final AtomicBoolean woken = new AtomicBoolean();
    private volatile boolean running = true;

    WireLoop(String name) {
        try {
            selector = Selector.open();
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a selector for the upstream sockets", e);
        }
        thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    Selector selector() {
        return selector;
    }

    boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Runs {@code task} on the loop thread, soon; dropped once the loop was closed. */
    void execute(Runnable task) {
        tasks.add(task);
        if (!inLoop()) {
            wakeup();
        }
    }

    /** Makes a waiting {@code select} return, so that interest changed from another thread is seen. */
    void wakeup() {
        if (woken.compareAndSet(false, true)) {
            selector.wakeup();
        }
    }

    private void run() {
        try {
            while (running) {
                runTasks();
                selector.select(this::ready);
                woken.set(false);
            }
        } catch (ClosedSelectorException e) {
            // closed
        } catch (Throwable t) {
            LOG.error("the upstream socket thread stopped: {}", t.toString());
        } finally {
            closeAll();
        }
    }

    /**
     * Hands readiness to its socket. Whatever that throws, an {@code Error} included (a completion's bug,
     * a {@code StackOverflowError}), closes that socket, never the loop: every other relay on this thread,
     * and every one assigned to it later, depends on it (as Netty's event loops and Jetty's selectors
     * outlive their tasks' failures).
     */
    private void ready(SelectionKey key) {
        if (key.attachment() instanceof ChannelWire wire) {
            try {
                wire.ready(key);
            } catch (CancelledKeyException e) {
                wire.close(); // closed while this batch of events was handled
            } catch (RuntimeException e) {
                LOG.warn("an upstream socket's event failed; the socket is closed: {}", e.toString());
                wire.close();
            } catch (Throwable t) {
                LOG.error("an upstream socket's event failed; the socket is closed", t);
                wire.close();
            }
        }
    }

    /** Runs the tasks handed over by other threads; one that throws, whatever it throws, does not stop the loop. */
    private void runTasks() {
        Runnable task;
        while ((task = tasks.poll()) != null) {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.warn("a task of the upstream socket thread failed: {}", e.toString());
            } catch (Throwable t) {
                LOG.error("a task of the upstream socket thread failed", t);
            }
        }
    }

    /** Closes every socket of the loop: their outstanding operations fail. */
    private void closeAll() {
        tasks.clear();
        try {
            for (SelectionKey key : new java.util.ArrayList<>(selector.keys())) {
                if (key.attachment() instanceof ChannelWire wire) {
                    wire.close();
                }
            }
            selector.close();
        } catch (ClosedSelectorException | IOException e) {
            // stopping
        }
    }

    /** Stops the thread after closing every socket; waits up to {@code millis} for it. */
    void close(long millis) {
        running = false;
        selector.wakeup();
        if (inLoop()) {
            return; // the loop ends when this task returns
        }
        try {
            thread.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        close(2_000);
    }
}

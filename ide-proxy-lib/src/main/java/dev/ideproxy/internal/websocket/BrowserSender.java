package dev.ideproxy.internal.websocket;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serialises everything sent to one browser session: data, pings, pongs and the close. Tomcat allows
 * one outstanding send per session (a second one fails with {@code IllegalStateException}), and the
 * relay mixes asynchronous whole-message sends with blocking partial ones, so each send starts only
 * when the one before it has completed.
 *
 * <p>A task receives a {@code done} runnable that it must run exactly once, on any thread, when its
 * send has completed (or failed). The next task then runs on the thread that called {@code done}, or
 * on the submitting thread when nothing was pending. Tasks that complete synchronously are run in a
 * loop rather than recursively, so a fast stream cannot grow the stack. The queue stays short: the
 * relay only submits the next data send after the previous one completed, so at most one data task,
 * a control frame or two and the close can wait here.
 *
 * <p>Thread-safe.
 */
final class BrowserSender {
    private static final Logger LOG = LoggerFactory.getLogger(BrowserSender.class);

    /** One send to the browser. */
    @FunctionalInterface
    interface Task {
        void run(Runnable done);
    }

    private final ArrayDeque<Task> queue = new ArrayDeque<>(4);
    private boolean running;

    /** Runs {@code task} now if nothing is being sent, otherwise after the sends before it. */
    void submit(Task task) {
        synchronized (this) {
            queue.add(task);
            if (running) {
                return;
            }
            running = true;
        }
        drain();
    }

    /** Runs {@code task} only if nothing is being sent or waiting; returns whether it was taken. */
    boolean submitIfIdle(Task task) {
        synchronized (this) {
            if (running || !queue.isEmpty()) {
                return false;
            }
            queue.add(task);
            running = true;
        }
        drain();
        return true;
    }

    /** True while a send is in progress or waiting. */
    synchronized boolean busy() {
        return running;
    }

    private void drain() {
        while (true) {
            Task task;
            synchronized (this) {
                task = queue.poll();
                if (task == null) {
                    running = false;
                    return;
                }
            }
            Completion done = new Completion();
            try {
                task.run(done);
            } catch (RuntimeException | Error e) {
                // A task must not throw; if one does, count it as completed so the queue cannot stall.
                done.abandon();
                LOG.warn("a send to the browser failed unexpectedly", e);
                continue;
            }
            if (done.returnedFirst()) {
                return; // the send completes later; its done() continues the queue
            }
        }
    }

    /** Whoever of "run() returned" and "done() called" comes second continues the queue. */
    private final class Completion implements Runnable {
        private static final int RUNNING = 0;
        private static final int RETURNED = 1;
        private static final int DONE = 2;
        private static final int ABANDONED = 3;
        private final AtomicInteger state = new AtomicInteger(RUNNING);

        @Override
        public void run() {
            if (state.compareAndSet(RUNNING, DONE)) {
                return; // completed synchronously: the loop in drain() goes on
            }
            if (state.compareAndSet(RETURNED, DONE)) {
                drain();
            }
        }

        boolean returnedFirst() {
            return state.compareAndSet(RUNNING, RETURNED);
        }

        void abandon() {
            state.set(ABANDONED);
        }
    }
}

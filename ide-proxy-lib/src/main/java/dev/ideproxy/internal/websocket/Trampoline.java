package dev.ideproxy.internal.websocket;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a step of a read or write loop without letting the stack grow with the data. A socket
 * operation may complete on the thread that started it, and its completion asks for the next step:
 * run directly, that would nest one call deeper per step for as long as both sockets keep up. Asked
 * for while a step is running (from inside it, or from another thread), a step is instead counted and
 * run by the loop of the thread already running, once the current step returns; every request runs
 * exactly one step. Jetty's {@code IteratingCallback} applies the same idea to its own callbacks.
 */
final class Trampoline {
    private final Runnable step;
    /** Steps asked for and not yet run; the thread that moves it from 0 to 1 runs the loop. */
    private final AtomicInteger asked = new AtomicInteger();

    Trampoline(Runnable step) {
        this.step = step;
    }

    /** Runs the step now, or after the step in progress (on the thread running that one). */
    void run() {
        if (asked.getAndIncrement() != 0) {
            return;
        }
        int left = 1;
        try {
            do {
                step.run();
                left = asked.addAndGet(-left);
            } while (left != 0);
        } catch (RuntimeException | Error e) {
            // A step that throws ends the loop; what was asked meanwhile is dropped with it, and the
            // next request starts a loop again instead of being swallowed forever.
            asked.set(0);
            throw e;
        }
    }
}

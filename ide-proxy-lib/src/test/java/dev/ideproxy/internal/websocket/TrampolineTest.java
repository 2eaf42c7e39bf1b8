package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The loop behind the passthrough's reads and writes ({@link ByteRelayStackTest} covers it in the relay). */
class TrampolineTest {

    @Test
    void aStepAskedForFromInsideAStepRunsAfterItInsteadOfInsideIt() {
        int steps = 200_000; // deep enough to overflow any thread's stack if each nested
        AtomicInteger runs = new AtomicInteger();
        AtomicInteger depth = new AtomicInteger();
        AtomicInteger deepest = new AtomicInteger();
        AtomicReference<Trampoline> self = new AtomicReference<>();
        Trampoline trampoline = new Trampoline(() -> {
            deepest.accumulateAndGet(depth.incrementAndGet(), Math::max);
            if (runs.incrementAndGet() < steps) {
                self.get().run(); // as a completion that ran on the calling thread does
            }
            depth.decrementAndGet();
        });
        self.set(trampoline);

        trampoline.run();

        assertEquals(steps, runs.get(), "every request runs one step");
        assertEquals(1, deepest.get(), "steps never nest");
    }

    @Test
    void aStepAskedForFromAnotherThreadDuringAStepIsRunByTheRunningLoop() throws Exception {
        CountDownLatch inFirstStep = new CountDownLatch(1);
        CountDownLatch askedMeanwhile = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        Trampoline trampoline = new Trampoline(() -> {
            if (runs.incrementAndGet() == 1) {
                inFirstStep.countDown();
                await(askedMeanwhile);
            } else {
                ranOn.set(Thread.currentThread());
            }
        });
        Thread first = new Thread(trampoline::run, "first");
        first.start();
        assertTrue(inFirstStep.await(10, TimeUnit.SECONDS));

        trampoline.run(); // returns at once: the first thread's loop takes it over
        assertEquals(1, runs.get(), "not run on the asking thread while a step is in progress");
        askedMeanwhile.countDown();
        first.join(10_000);

        assertEquals(2, runs.get());
        assertSame(first, ranOn.get(), "run by the thread whose loop was running");
    }

    @Test
    void aStepThatThrowsDoesNotStopLaterRequestsFromRunning() {
        AtomicInteger runs = new AtomicInteger();
        Trampoline trampoline = new Trampoline(() -> {
            if (runs.incrementAndGet() == 1) {
                throw new IllegalStateException("first step fails");
            }
        });

        assertThrows(IllegalStateException.class, trampoline::run);
        trampoline.run();

        assertEquals(2, runs.get(), "the request after a failed step still runs one");
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}

package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The serialisation of sends to one browser session, under concurrency, without a container. */
@Timeout(30)
class BrowserSenderTest {

    @Test
    void sendsNeverOverlapAndKeepTheirOrderPerSubmitter() throws Exception {
        BrowserSender sender = new BrowserSender();
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        int threads = 8;
        int perThread = 2_000;
        List<List<Integer>> seen = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            seen.add(Collections.synchronizedList(new ArrayList<>()));
        }
        ScheduledExecutorService completer = Executors.newScheduledThreadPool(2);
        ExecutorService submitters = Executors.newFixedThreadPool(threads);
        CountDownLatch all = new CountDownLatch(threads * perThread);
        try {
            for (int t = 0; t < threads; t++) {
                int thread = t;
                submitters.execute(() -> {
                    for (int i = 0; i < perThread; i++) {
                        int n = i;
                        sender.submit(done -> {
                            if (inFlight.incrementAndGet() != 1) {
                                overlaps.incrementAndGet();
                            }
                            seen.get(thread).add(n);
                            Runnable finish = () -> {
                                inFlight.decrementAndGet();
                                all.countDown();
                                done.run();
                            };
                            // Some sends complete at once, others later on another thread, like real ones.
                            if (ThreadLocalRandom.current().nextBoolean()) {
                                finish.run();
                            } else {
                                completer.execute(finish);
                            }
                        });
                    }
                });
            }
            assertTrue(all.await(20, TimeUnit.SECONDS), "every send ran");
        } finally {
            submitters.shutdownNow();
            completer.shutdownNow();
        }
        assertEquals(0, overlaps.get(), "two sends were in progress at once");
        for (List<Integer> order : seen) {
            for (int i = 0; i < order.size(); i++) {
                assertEquals(i, order.get(i), "sends of one submitter ran out of order");
            }
        }
        assertFalse(sender.busy());
    }

    @Test
    void aLongRunOfSynchronousSendsDoesNotGrowTheStack() {
        BrowserSender sender = new BrowserSender();
        AtomicInteger count = new AtomicInteger();
        int total = 200_000;
        // Each send, completing at once, submits the next one: the shape of a fast stream.
        AtomicReference<BrowserSender.Task> next = new AtomicReference<>();
        next.set(done -> {
            done.run();
            if (count.incrementAndGet() < total) {
                sender.submit(next.get());
            }
        });
        sender.submit(next.get());
        assertEquals(total, count.get());
        assertFalse(sender.busy());
    }

    @Test
    void submitIfIdleDefersToSendsInProgressAndAThrowingTaskDoesNotStallTheQueue() {
        BrowserSender sender = new BrowserSender();
        AtomicReference<Runnable> pending = new AtomicReference<>();
        sender.submit(pending::set); // in progress until pending.get().run()
        assertTrue(sender.busy());
        AtomicInteger pings = new AtomicInteger();
        assertFalse(sender.submitIfIdle(done -> {
            pings.incrementAndGet();
            done.run();
        }), "a keep-alive ping waits for no one: skipped while busy");

        AtomicInteger ran = new AtomicInteger();
        sender.submit(done -> {
            throw new IllegalStateException("a broken task");
        });
        sender.submit(done -> {
            ran.incrementAndGet();
            done.run();
        });
        assertEquals(0, ran.get());
        pending.get().run();
        assertEquals(1, ran.get(), "the queue went on past the broken task");
        assertTrue(sender.submitIfIdle(done -> {
            pings.incrementAndGet();
            done.run();
        }));
        assertEquals(1, pings.get());
        assertFalse(sender.busy());
    }
}

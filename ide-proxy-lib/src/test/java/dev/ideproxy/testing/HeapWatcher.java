package dev.ideproxy.testing;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Measures the live heap (after a full collection) at chosen moments of a transfer, against the
 * live heap before it. A proxy that buffered a whole body would show it as growth at mid-transfer.
 */
public final class HeapWatcher {
    private final long baseline;
    private final AtomicLong maxLive = new AtomicLong();

    public HeapWatcher() {
        this.baseline = live();
        maxLive.set(baseline);
    }

    /** Collects, then records the live heap; call it while the transfer is under way. */
    public long sample() {
        long live = live();
        maxLive.accumulateAndGet(live, Math::max);
        return live;
    }

    /** Largest live-heap growth over the baseline seen by {@link #sample()}, in bytes. */
    public long growth() {
        return Math.max(0, maxLive.get() - baseline);
    }

    private static long live() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}

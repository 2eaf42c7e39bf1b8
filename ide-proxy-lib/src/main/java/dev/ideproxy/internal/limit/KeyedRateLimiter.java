package dev.ideproxy.internal.limit;

import dev.ideproxy.config.IdeProxyConfig.Rate;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One token bucket (Bucket4j) per key, e.g. per user: each key may take {@link Rate#count()} events
 * per {@link Rate#period()}, in bursts up to that count. The buckets live in this process: a limit
 * holds per node.
 *
 * <p>Bounded: at most {@value #MAX_KEYS} keys are remembered; beyond that the least recently used
 * key is forgotten (and starts again with a full bucket), so a flood of distinct keys costs bounded
 * memory. Limits are asked on mint and bootstrap only, never per proxied request, so one lock is
 * enough. Thread-safe.
 */
final class KeyedRateLimiter {
    static final int MAX_KEYS = 100_000;

    private final Rate rate;
    private final Map<String, Bucket> buckets = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > MAX_KEYS;
        }
    };

    KeyedRateLimiter(Rate rate) {
        this.rate = rate;
    }

    /**
     * Takes one event for {@code key}.
     *
     * @return zero when allowed, else how long until one is allowed again
     */
    synchronized Duration tryTake(String key) {
        Bucket bucket = buckets.computeIfAbsent(key, k -> Bucket.builder()
                .addLimit(Bandwidth.builder().capacity(rate.count()).refillGreedy(rate.count(), rate.period()).build())
                .build());
        ConsumptionProbe probe = bucket.tryConsumeAndReturnRemaining(1);
        return probe.isConsumed() ? Duration.ZERO : Duration.ofNanos(probe.getNanosToWaitForRefill());
    }

    /** Keys remembered now; for tests. */
    synchronized int size() {
        return buckets.size();
    }
}

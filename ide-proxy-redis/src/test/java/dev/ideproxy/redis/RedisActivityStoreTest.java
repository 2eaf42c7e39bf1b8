package dev.ideproxy.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.activity.WorkspaceActivity;
import dev.ideproxy.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The Redis activity store directly, as two nodes sharing one real Redis: the latest activity wins
 * whatever order the nodes write in, live WebSockets are summed per node and a node's count that is
 * not renewed goes stale, the idle listing, the retention, and what the keys hold (ids, instants and
 * counts; never a token).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RedisActivityStoreTest {
    private static final Duration INTERVAL = Duration.ofMinutes(1);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
    private RedisServer redis;
    private RedisStores node1;
    private RedisStores node2;

    @BeforeAll
    void start() throws Exception {
        redis = RedisServer.start();
        node1 = RedisStores.builder(redis.uri()).clock(clock).activityRetention(Duration.ofDays(1)).connect();
        node2 = RedisStores.builder(redis.uri()).clock(clock).activityRetention(Duration.ofDays(1)).connect();
    }

    @AfterAll
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {node1, node2, redis}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static WorkspaceActivity at(String workspace, String user, Instant when, int live) {
        return new WorkspaceActivity(workspace, user, when, live);
    }

    @Test
    void theLatestActivityWinsWhateverOrderTheNodesWriteIn() {
        Instant t = clock.instant();
        node2.activityStore().record(List.of(at("latest", "bob", t.plusSeconds(120), 0)), INTERVAL);
        node1.activityStore().record(List.of(at("latest", "alice", t.plusSeconds(60), 0)), INTERVAL); // older, later
        assertEquals(Optional.of(at("latest", "bob", t.plusSeconds(120), 0)), node1.activityStore().find("latest"));
        node1.activityStore().record(List.of(at("latest", "carol", t.plusSeconds(180), 0)), INTERVAL);
        assertEquals(Optional.of(at("latest", "carol", t.plusSeconds(180), 0)), node2.activityStore().find("latest"));
        assertEquals(Optional.empty(), node2.activityStore().find("never-used"));
        node1.activityStore().record(List.of(at("nobody", null, t, 0)), INTERVAL);
        assertEquals(Optional.of(at("nobody", null, t, 0)), node2.activityStore().find("nobody"));
    }

    @Test
    void liveWebSocketsAreSummedOverTheNodesAndACountNotRenewedGoesStale() {
        Instant t = clock.instant();
        node1.activityStore().record(List.of(at("shared", "alice", t, 2)), INTERVAL);
        node2.activityStore().record(List.of(at("shared", "bob", t, 1)), INTERVAL);
        assertEquals(3, node1.activityStore().find("shared").orElseThrow().liveWebSockets());
        node1.activityStore().record(List.of(at("shared", "alice", t, 0)), INTERVAL);
        assertEquals(1, node2.activityStore().find("shared").orElseThrow().liveWebSockets());

        clock.advance(INTERVAL.multipliedBy(RedisActivityStore.RENEWALS_MISSED).plusSeconds(1)); // node 2 died
        assertEquals(0, node1.activityStore().find("shared").orElseThrow().liveWebSockets());
    }

    @Test
    void theIdleListingIsOldestFirstAndForgetsAfterTheRetention() {
        Instant t = clock.instant();
        node1.activityStore().record(List.of(at("idle-1", "alice", t.minus(Duration.ofHours(3)), 0),
                at("idle-2", "bob", t.minus(Duration.ofHours(2)), 1)), INTERVAL);
        node2.activityStore().record(List.of(at("busy", "carol", t, 0)), INTERVAL);
        List<String> idle = node2.activityStore().inactiveSince(t.minus(Duration.ofHours(1))).stream()
                .map(WorkspaceActivity::workspace).filter(w -> w.startsWith("idle") || w.equals("busy")).toList();
        assertEquals(List.of("idle-1", "idle-2"), idle);
        WorkspaceActivity second = node2.activityStore().inactiveSince(t.minus(Duration.ofHours(1))).stream()
                .filter(a -> a.workspace().equals("idle-2")).findFirst().orElseThrow();
        assertEquals(at("idle-2", "bob", t.minus(Duration.ofHours(2)), 1), second);

        clock.advance(Duration.ofHours(22)); // idle-1 is now older than the retention of one day
        node1.activityStore().record(List.of(at("busy", "carol", clock.instant(), 0)), INTERVAL);
        List<String> left = node1.activityStore().inactiveSince(clock.instant()).stream()
                .map(WorkspaceActivity::workspace).toList();
        assertTrue(!left.contains("idle-1") && left.contains("idle-2"), left.toString());
        long ttl = redis.admin().pttl("ide-proxy:activity:busy");
        assertTrue(ttl > Duration.ofHours(23).toMillis() && ttl <= Duration.ofDays(1).toMillis(), "expires: " + ttl);
    }

    @Test
    void theKeysHoldIdsInstantsAndCountsOnly() {
        Instant t = clock.instant();
        node1.activityStore().record(List.of(at("a:b*c", "user:x", t, 1)), INTERVAL);
        Map<String, String> hash = redis.admin().hgetall("ide-proxy:activity:a%3Ab%2Ac");
        assertEquals(Long.toString(t.toEpochMilli()), hash.get("at"));
        assertEquals("user:x", hash.get("user"));
        assertEquals(3, hash.size(), hash.toString()); // at, user and this node's count
        assertTrue(hash.entrySet().stream().anyMatch(e -> e.getKey().startsWith("n:") && e.getValue().startsWith("1 ")));
        assertEquals((double) t.toEpochMilli(), redis.admin().zscore("ide-proxy:activity", "a:b*c"));
        assertEquals(Optional.of(at("a:b*c", "user:x", t, 1)), node2.activityStore().find("a:b*c"));
    }
}

package dev.ideproxy.internal.activity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.activity.ActivityStore;
import dev.ideproxy.activity.WorkspaceActivity;
import dev.ideproxy.testing.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The tracker's bookkeeping without threads or servers ({@link ActivityTracker#report()} called by
 * the test): what the listener and the store are given, the fleet's answer merged with this node's,
 * a store that fails and recovers, and entries forgotten after the retention; and that the background
 * thread is gone once stopped. The endpoints, the relay and the background thread are tested end to
 * end in {@code dev.ideproxy.activity}.
 */
class ActivityTrackerTest {
    private static final Duration INTERVAL = Duration.ofSeconds(60);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T10:00:00Z"));
    private final List<WorkspaceActivity> heard = new ArrayList<>();
    private final FleetStore store = new FleetStore();

    /**
     * Tomcat looks for threads left behind as soon as the web application has stopped: the thread
     * must be gone when {@code stop()} returns, not merely have finished its tasks (a redeploy in
     * Tomcat 11 reported "appears to have started a thread named [ide-proxy-activity] but has failed
     * to stop it" 2 times in 20).
     */
    @Test
    void whenStopReturnsTheBackgroundThreadHasEnded() {
        long before = activityThreads();
        for (int i = 0; i < 200; i++) {
            ActivityTracker tracker = new ActivityTracker(clock, Duration.ofMillis(1), Duration.ofDays(7), null, null);
            tracker.start();
            tracker.stop();
            assertEquals(before, activityThreads(), "round " + i + ": the thread outlived stop()");
        }
    }

    private static long activityThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().equals(ActivityTracker.THREAD_NAME)).count();
    }

    @Test
    void theListenerHearsOfChangesOnlyAndFramesAdvanceTimeNeverBack() {
        ActivityTracker tracker = new ActivityTracker(clock, INTERVAL, Duration.ofDays(7), heard::add, null);
        tracker.request("a", "alice");
        tracker.report();
        tracker.report();
        assertEquals(List.of(new WorkspaceActivity("a", "alice", clock.instant(), 0)), heard, "once, however often asked");

        ActivityTracker.Entry entry = tracker.entry("a");
        clock.advance(Duration.ofSeconds(5));
        entry.frame(); // the frame clock has not moved yet: nothing changes
        tracker.report();
        assertEquals(1, heard.size());
        Instant later = clock.instant();
        tracker.report(); // refreshes the frame clock first
        entry.frame();
        entry.webSocketOpened("bob");
        tracker.report();
        assertEquals(new WorkspaceActivity("a", "bob", later, 1), heard.get(heard.size() - 1));

        Instant before = clock.instant();
        clock.set(before.minusSeconds(30)); // a clock stepped back
        tracker.request("a", "alice");
        assertEquals(before, tracker.find("a").orElseThrow().lastActivity(), "never moves back");
        entry.webSocketClosed();
        assertEquals(0, tracker.find("a").orElseThrow().liveWebSockets());
    }

    @Test
    void theStoreGetsChangesAndLiveCountsAndTheAnswerIsTheFleets() {
        ActivityTracker tracker = new ActivityTracker(clock, INTERVAL, Duration.ofDays(7), null, store);
        tracker.request("a", "alice");
        tracker.request("b", "alice");
        tracker.entry("b").webSocketOpened("alice");
        tracker.report();
        assertEquals(List.of("a", "b"), store.lastRecordedWorkspaces());
        tracker.report();
        assertEquals(List.of("b"), store.lastRecordedWorkspaces(), "unchanged, but its live count is renewed");
        assertEquals(INTERVAL, store.lastInterval);

        // Another node used b later, with two WebSockets of its own.
        Instant elsewhere = clock.instant().plusSeconds(90);
        store.recordFromAnotherNode(new WorkspaceActivity("b", "bob", elsewhere, 2));
        assertEquals(new WorkspaceActivity("b", "bob", elsewhere, 3), tracker.find("b").orElseThrow());
        tracker.entry("b").webSocketOpened("alice"); // not recorded yet: counted from this node's memory
        assertEquals(4, tracker.find("b").orElseThrow().liveWebSockets());
        clock.advance(Duration.ofMinutes(5));
        tracker.request("b", "carol"); // this node's activity is newer than the store's
        assertEquals(new WorkspaceActivity("b", "carol", clock.instant(), 4), tracker.find("b").orElseThrow());
        assertEquals(Optional.empty(), tracker.find("c"));
    }

    @Test
    void aFailedRecordIsTriedAgainAndAFailedReadIsReported() {
        ActivityTracker tracker = new ActivityTracker(clock, INTERVAL, Duration.ofDays(7), heard::add, store);
        tracker.request("a", "alice");
        store.down = true;
        tracker.report();
        assertEquals(1, heard.size(), "the listener does not depend on the store");
        assertThrows(IllegalStateException.class, () -> tracker.find("a"));
        store.down = false;
        tracker.report();
        assertEquals(List.of("a"), store.lastRecordedWorkspaces(), "sent again once the store answers");
        store.records.clear();
        tracker.report();
        assertTrue(store.records.isEmpty(), "then not again while nothing changes");
    }

    @Test
    void unusedWorkspacesAreForgottenAfterTheRetentionUnlessAWebSocketIsOpen() {
        ActivityTracker tracker = new ActivityTracker(clock, INTERVAL, Duration.ofHours(1), null, null);
        tracker.request("a", "alice");
        tracker.request("b", "bob");
        tracker.entry("b").webSocketOpened("bob");
        clock.advance(Duration.ofMinutes(59));
        tracker.report();
        assertEquals(2, tracker.size());
        assertEquals(List.of("a", "b"), tracker.inactiveSince(clock.instant().minus(Duration.ofMinutes(30)))
                .stream().map(WorkspaceActivity::workspace).toList());
        clock.advance(Duration.ofMinutes(2));
        tracker.report();
        assertEquals(1, tracker.size(), "a is forgotten; b has a live WebSocket");
        assertEquals(Optional.empty(), tracker.find("a"));
        assertEquals(1, tracker.find("b").orElseThrow().liveWebSockets());
    }

    /** A store for several nodes in memory: latest activity wins, live counts summed per node. */
    private static final class FleetStore implements ActivityStore {
        final List<List<WorkspaceActivity>> records = new ArrayList<>();
        private final Map<String, WorkspaceActivity> latest = new HashMap<>();
        private final Map<String, Map<String, Integer>> liveByNode = new HashMap<>();
        Duration lastInterval;
        volatile boolean down;

        @Override
        public synchronized void record(List<WorkspaceActivity> activity, Duration interval) {
            if (down) {
                throw new IllegalStateException("store down");
            }
            records.add(activity);
            lastInterval = interval;
            for (WorkspaceActivity a : activity) {
                put("this node", a);
            }
        }

        synchronized void recordFromAnotherNode(WorkspaceActivity a) {
            put("other node", a);
        }

        private void put(String node, WorkspaceActivity a) {
            latest.merge(a.workspace(), a, (old, now) -> now.lastActivity().isAfter(old.lastActivity()) ? now : old);
            liveByNode.computeIfAbsent(a.workspace(), w -> new HashMap<>()).put(node, a.liveWebSockets());
        }

        List<String> lastRecordedWorkspaces() {
            return records.get(records.size() - 1).stream().map(WorkspaceActivity::workspace).sorted().toList();
        }

        @Override
        public synchronized Optional<WorkspaceActivity> find(String workspace) {
            if (down) {
                throw new IllegalStateException("store down");
            }
            WorkspaceActivity a = latest.get(workspace);
            if (a == null) {
                return Optional.empty();
            }
            int live = liveByNode.get(workspace).values().stream().mapToInt(Integer::intValue).sum();
            return Optional.of(new WorkspaceActivity(workspace, a.user(), a.lastActivity(), live));
        }

        @Override
        public synchronized List<WorkspaceActivity> inactiveSince(Instant cutoff) {
            return latest.keySet().stream().map(w -> find(w).orElseThrow())
                    .filter(a -> a.lastActivity().isBefore(cutoff))
                    .sorted(Comparator.comparing(WorkspaceActivity::lastActivity)).toList();
        }
    }
}

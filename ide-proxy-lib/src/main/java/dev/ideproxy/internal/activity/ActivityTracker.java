package dev.ideproxy.internal.activity;

import dev.ideproxy.activity.ActivityListener;
import dev.ideproxy.activity.ActivityStore;
import dev.ideproxy.activity.WorkspaceActivity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When each workspace was last used, by whom, and how many WebSockets it has open on this node: one
 * {@link Entry} per workspace in a map, reported once per interval to the {@link ActivityListener} and
 * the {@link ActivityStore}, and read by the activity endpoints.
 *
 * <p><b>The hot path.</b> The tunnel filter calls {@link #request} once per authenticated request (one
 * map lookup, one read of the clock, usually one compare-and-set). A relay takes its workspace's entry
 * once and calls {@link Entry#frame()} per frame: it reads a coarse clock (a volatile field this
 * tracker refreshes every {@link #RESOLUTION} or sooner) and writes the entry's time only when that
 * clock moved, so most frames cost two volatile reads. Nothing there allocates, locks or calls the
 * listener or the store.
 *
 * <p><b>The background thread.</b> {@link #start()} starts one daemon thread ({@value #THREAD_NAME})
 * that refreshes the coarse clock and, with a fixed delay of one interval, reports every entry that
 * changed; {@link #stop()} reports one last time and ends it. Entries of workspaces with no live
 * WebSocket and no use within the retention are forgotten.
 *
 * <p>Time comes from the injectable {@link Clock}. Thread-safe.
 */
public final class ActivityTracker {
    private static final Logger LOG = LoggerFactory.getLogger(ActivityTracker.class);
    /** The name of the background thread. */
    public static final String THREAD_NAME = "ide-proxy-activity";
    /** The most a frame's recorded time lags behind the clock (less with a shorter interval). */
    public static final Duration RESOLUTION = Duration.ofSeconds(1);
    private static final long NEVER = Long.MIN_VALUE;

    private final Clock clock;
    private final Duration interval;
    private final Duration retention;
    private final ActivityListener listener;
    private final ActivityStore store;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    /** {@code clock.millis()} as of the last refresh: what frames record. */
    private volatile long coarseMillis;

    // Guarded by this.
    private ScheduledThreadPoolExecutor executor;
    private boolean stopped;
    /** The background thread, joined by {@link #stop()}. */
    private volatile Thread thread;

    // Confined to the background thread.
    private boolean storeFailing;

    /**
     * @param interval  how often changes are reported ({@code activity.interval})
     * @param retention how long an unused workspace without live WebSockets is remembered
     * @param listener  told of changes, or null
     * @param store     shared with other nodes, or null to answer from this node's memory
     */
    public ActivityTracker(Clock clock, Duration interval, Duration retention, ActivityListener listener,
                           ActivityStore store) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.retention = Objects.requireNonNull(retention, "retention");
        this.listener = listener;
        this.store = store;
        this.coarseMillis = clock.millis();
    }

    // ------------------------------------------------------------------ the hot path

    /** An authenticated request of {@code workspace}'s tunnel by {@code user}: recorded at the clock's time. */
    public void request(String workspace, String user) {
        long now = clock.millis();
        if (now > coarseMillis) {
            coarseMillis = now; // frames after this request record at least its time
        }
        Entry entry = entry(workspace);
        entry.user = user;
        entry.advance(now);
    }

    /** The entry of {@code workspace}, created when missing; a relay takes it once, at its start. */
    public Entry entry(String workspace) {
        Entry entry = entries.get(workspace);
        return entry != null ? entry : entries.computeIfAbsent(workspace, Entry::new);
    }

    /**
     * One workspace's activity on this node. The methods a relay calls are lock-free and allocate
     * nothing. Thread-safe.
     */
    public final class Entry {
        private final String workspace;
        /** Milliseconds since the epoch of the last activity, or {@link #NEVER}. */
        private final AtomicLong last = new AtomicLong(NEVER);
        private final AtomicInteger liveWebSockets = new AtomicInteger();
        private volatile String user;
        /** This node's count as last recorded in the store (read by requests, written by the background thread). */
        private volatile int storedWebSockets;
        // Confined to the background thread: what the listener and the store were last given.
        private Reported toListener;
        private Reported toStore;

        private Entry(String workspace) {
            this.workspace = workspace;
        }

        /** A frame was relayed (either direction): per frame; usually two volatile reads and no write. */
        public void frame() {
            advance(coarseMillis);
        }

        /** A WebSocket of {@code user} opened on this workspace (counted until {@link #webSocketClosed()}). */
        public void webSocketOpened(String user) {
            this.user = user;
            liveWebSockets.incrementAndGet();
            frame();
        }

        /** A WebSocket counted by {@link #webSocketOpened} ended; call once per opening. */
        public void webSocketClosed() {
            liveWebSockets.decrementAndGet();
            frame();
        }

        /** Moves the last activity forward to {@code millis}; never back. */
        private void advance(long millis) {
            long previous = last.get();
            while (millis > previous) {
                if (last.compareAndSet(previous, millis)) {
                    return;
                }
                previous = last.get();
            }
        }

        /** Now, or null when the workspace was never used (an entry taken but not yet touched). */
        private WorkspaceActivity snapshot() {
            long at = last.get();
            return at == NEVER ? null
                    : new WorkspaceActivity(workspace, user, Instant.ofEpochMilli(at), Math.max(0, liveWebSockets.get()));
        }
    }

    /**
     * What the listener or the store was last given of an entry. Its {@code equals} and {@code hashCode}
     * are written out: the generated ones link through {@code java.lang.runtime.ObjectMethods}, whose
     * static method handle caches the last record type it was adapted to (its {@code asTypeCache}, in
     * JDK 17), which kept a redeployed WAR's class loader (Tomcat's leak check reported it).
     */
    private record Reported(long last, String user, int liveWebSockets) {
        static Reported of(WorkspaceActivity a) {
            return new Reported(a.lastActivity().toEpochMilli(), a.user(), a.liveWebSockets());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Reported r && r.last == last && r.liveWebSockets == liveWebSockets
                    && java.util.Objects.equals(r.user, user);
        }

        @Override
        public int hashCode() {
            return java.util.Objects.hash(last, user, liveWebSockets);
        }
    }

    // ------------------------------------------------------------------ reading

    /** The clock's time, for answers that show how long ago something was. */
    public Instant now() {
        return clock.instant();
    }

    /**
     * The workspace's activity: this node's, or with a store the fleet's (the latest over the store
     * and this node, and the live WebSockets of every node).
     *
     * @throws RuntimeException what the store throws when it cannot answer
     */
    public Optional<WorkspaceActivity> find(String workspace) {
        Entry entry = entries.get(workspace);
        WorkspaceActivity local = entry == null ? null : entry.snapshot();
        if (store == null) {
            return Optional.ofNullable(local);
        }
        WorkspaceActivity shared = store.find(workspace).orElse(null);
        return Optional.ofNullable(merge(shared, local, entry));
    }

    /**
     * Every workspace last used before {@code cutoff}, oldest first (as {@link #find} answers each).
     *
     * @throws RuntimeException what the store throws when it cannot answer
     */
    public List<WorkspaceActivity> inactiveSince(Instant cutoff) {
        Map<String, WorkspaceActivity> found = new HashMap<>();
        if (store != null) {
            for (WorkspaceActivity shared : store.inactiveSince(cutoff)) {
                Entry entry = entries.get(shared.workspace());
                found.put(shared.workspace(), merge(shared, entry == null ? null : entry.snapshot(), entry));
            }
        }
        for (Entry entry : entries.values()) {
            WorkspaceActivity local = entry.snapshot();
            if (local != null && !found.containsKey(local.workspace()) && local.lastActivity().isBefore(cutoff)) {
                // Not in the store yet, or the store lost it: what this node knows.
                found.put(local.workspace(), local);
            }
        }
        List<WorkspaceActivity> idle = new ArrayList<>();
        for (WorkspaceActivity activity : found.values()) {
            if (activity.lastActivity().isBefore(cutoff)) {
                idle.add(activity);
            }
        }
        idle.sort(Comparator.comparing(WorkspaceActivity::lastActivity).thenComparing(WorkspaceActivity::workspace));
        return idle;
    }

    /** The later activity of the two with its user; live WebSockets of the other nodes plus this node's now. */
    private static WorkspaceActivity merge(WorkspaceActivity shared, WorkspaceActivity local, Entry entry) {
        if (shared == null) {
            return local;
        }
        if (local == null) {
            return shared;
        }
        WorkspaceActivity later = local.lastActivity().isAfter(shared.lastActivity()) ? local : shared;
        int live = Math.max(0, shared.liveWebSockets() - entry.storedWebSockets) + local.liveWebSockets();
        return new WorkspaceActivity(shared.workspace(), later.user(), later.lastActivity(), live);
    }

    // ------------------------------------------------------------------ the background thread

    /** Starts the background thread; does nothing when started already, or after {@link #stop()}. */
    public synchronized void start() {
        if (executor != null || stopped) {
            return;
        }
        executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, THREAD_NAME);
            thread.setDaemon(true);
            this.thread = thread;
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        long tick = Math.min(RESOLUTION.toMillis(), interval.toMillis());
        executor.scheduleAtFixedRate(this::refreshClock, tick, tick, TimeUnit.MILLISECONDS);
        long every = interval.toMillis();
        executor.scheduleWithFixedDelay(this::reportSafely, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Reports one last time (so the store has this node's latest activity), then ends the background
     * thread and waits until it has ended (a container checks for threads left behind right after).
     */
    public void stop() {
        ScheduledThreadPoolExecutor e;
        synchronized (this) {
            if (stopped) {
                return;
            }
            stopped = true;
            e = executor;
        }
        if (e == null) {
            return;
        }
        try {
            e.submit(this::reportSafely).get(5, TimeUnit.SECONDS);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | java.util.concurrent.RejectedExecutionException ex) {
            LOG.debug("last activity report skipped: {}", ex.toString());
        }
        e.shutdownNow();
        try {
            e.awaitTermination(5, TimeUnit.SECONDS);
            // Terminated means its tasks are done, not that the thread has ended; Tomcat looks right after.
            Thread t = thread;
            if (t != null) {
                t.join(5_000);
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
    }

    private void refreshClock() {
        long now = clock.millis();
        if (now > coarseMillis) {
            coarseMillis = now;
        }
    }

    private void reportSafely() {
        try {
            report();
        } catch (RuntimeException e) {
            LOG.warn("activity report failed: {}", e.toString());
        }
    }

    /** Tells the listener of every change, records changes and live counts in the store, forgets old entries. */
    void report() {
        refreshClock();
        long forgetBefore = clock.millis() - retention.toMillis();
        List<WorkspaceActivity> forStore = new ArrayList<>();
        List<Entry> storing = new ArrayList<>();
        for (Entry entry : entries.values()) {
            WorkspaceActivity now = entry.snapshot();
            if (now == null) {
                continue;
            }
            Reported current = Reported.of(now);
            if (listener != null && !current.equals(entry.toListener)) {
                entry.toListener = current;
                try {
                    listener.onActivity(now);
                } catch (RuntimeException e) {
                    LOG.warn("the activity listener failed for workspace {}: {}", now.workspace(), e.toString());
                }
            }
            if (store != null && (!current.equals(entry.toStore) || current.liveWebSockets() > 0)) {
                forStore.add(now);
                storing.add(entry);
            }
            if (current.liveWebSockets() == 0 && current.last() < forgetBefore
                    && (store == null || current.equals(entry.toStore))) {
                // Forgotten only if still unused and unopened (a relay may have just taken it).
                entries.computeIfPresent(now.workspace(), (k, e) -> e == entry && e.liveWebSockets.get() == 0
                        && e.last.get() == current.last() ? null : e);
            }
        }
        if (!forStore.isEmpty()) {
            record(forStore, storing);
        }
    }

    private void record(List<WorkspaceActivity> activity, List<Entry> storing) {
        try {
            store.record(List.copyOf(activity), interval);
        } catch (RuntimeException e) {
            if (!storeFailing) {
                storeFailing = true;
                LOG.warn("workspace activity cannot be shared right now ({}); trying again every {}", e.toString(),
                        interval);
            }
            return;
        }
        if (storeFailing) {
            storeFailing = false;
            LOG.info("workspace activity is shared again");
        }
        for (int i = 0; i < activity.size(); i++) {
            Entry entry = storing.get(i);
            entry.toStore = Reported.of(activity.get(i));
            entry.storedWebSockets = activity.get(i).liveWebSockets();
        }
    }

    /** How many workspaces this node remembers; for tests. */
    int size() {
        return entries.size();
    }
}

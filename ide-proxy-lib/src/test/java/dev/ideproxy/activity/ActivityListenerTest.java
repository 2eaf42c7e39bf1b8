package dev.ideproxy.activity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@link ActivityListener} on both containers, with the real clock and a 200 ms interval: under
 * a WebSocket flood in both directions (and HTTP requests alongside) for many intervals, each
 * workspace is reported at most once per interval, never per frame, always from the background
 * thread; and that thread ends with the web application, however ide-proxy was installed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ActivityListenerTest {
    private static final Duration INTERVAL = Duration.ofMillis(200);
    private static final Duration FLOOD = Duration.ofMillis(2_000);

    private Upstream http;
    private WebSocketUpstream ws;
    private WebSocketClient client;

    /** One listener call, when it happened (System.nanoTime) and on which thread. */
    private record Call(long nanos, String thread, WorkspaceActivity activity) {
    }

    @BeforeAll
    void start() throws Exception {
        http = new Upstream("H");
        ws = new WebSocketUpstream("W");
        client = new WebSocketClient();
        client.start();
    }

    @AfterAll
    void stop() throws Exception {
        client.stop();
        http.close();
        ws.close();
    }

    private IdeProxy proxy(ActivityListener listener) {
        return IdeProxy.builder(IdeProxyConfig.builder()
                        .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                        .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                        .set(ConfigOption.TARGETS, "a=" + http.uri() + ",w=" + ws.uri())
                        .set(ConfigOption.ACTIVITY_INTERVAL, INTERVAL.toMillis() + "ms")
                        .build())
                .activityListener(listener)
                .build();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void underAWebSocketFloodEachWorkspaceIsReportedAtMostOncePerInterval(Container kind) throws Exception {
        Map<String, List<Call>> calls = new ConcurrentHashMap<>();
        ActivityListener listener = activity -> calls.computeIfAbsent(activity.workspace(), w -> new CopyOnWriteArrayList<>())
                .add(new Call(System.nanoTime(), Thread.currentThread().getName(), activity));
        try (Container.Running server = kind.start("", proxy(listener))) {
            Browser browser = new Browser(server);
            String onW = browser.session("w", "alice");
            String onA = browser.session("a", "bob");
            BrowserSocket socket = BrowserSocket.open(client, server, "/__ide/w/echo", onW).countOnly();

            // Binary messages both ways (the upstream echoes each), and HTTP requests to another workspace.
            AtomicBoolean flooding = new AtomicBoolean(true);
            AtomicLong requests = new AtomicLong();
            Thread httpLoad = new Thread(() -> {
                while (flooding.get()) {
                    try {
                        browser.getPath("/__ide/a/x", onA);
                        requests.incrementAndGet();
                    } catch (Exception e) {
                        return;
                    }
                }
            });
            httpLoad.start();
            long started = System.nanoTime();
            long sent = 0;
            ByteBuffer message = ByteBuffer.allocate(1024);
            while (System.nanoTime() - started < FLOOD.toNanos()) {
                message.clear();
                message.putLong(0, sent++);
                Callback.Completable done = new Callback.Completable();
                socket.session().sendBinary(message, done);
                done.get(10, TimeUnit.SECONDS);
            }
            long flooded = System.nanoTime() - started;
            flooding.set(false);
            httpLoad.join(10_000);
            long frames = sent;
            waitUntil(() -> socket.binaryBytes() == frames * 1024, "every echo to arrive");
            assertEquals(0, socket.sequenceErrors());
            socket.session().close();
            Thread.sleep(3 * INTERVAL.toMillis()); // the reports of the close

            List<Call> onWorkspaceW = calls.get("w");
            List<Call> onWorkspaceA = calls.get("a");
            System.out.printf("[%s] %d frames each way and %d HTTP requests in %d ms: %d reports for w, %d for a%n",
                    kind, frames, requests.get(), flooded / 1_000_000, onWorkspaceW.size(), onWorkspaceA.size());
            assertTrue(frames > 10L * onWorkspaceW.size(), "not per frame: " + frames + " frames, "
                    + onWorkspaceW.size() + " reports");
            for (List<Call> reports : List.of(onWorkspaceW, onWorkspaceA)) {
                for (int i = 1; i < reports.size(); i++) {
                    long gap = reports.get(i).nanos() - reports.get(i - 1).nanos();
                    assertTrue(gap >= INTERVAL.toNanos(), "two reports of " + reports.get(i).activity().workspace()
                            + " " + gap / 1_000 + " µs apart, less than the interval");
                }
                for (Call call : reports) {
                    assertEquals(ActivityTracker.THREAD_NAME, call.thread());
                }
            }
            long intervals = flooded / INTERVAL.toNanos();
            long duringFlood = onWorkspaceW.stream().filter(c -> c.nanos() >= started && c.nanos() <= started + flooded).count();
            // Reported all along (the frame clock moves every interval), and never more often than that.
            assertTrue(duringFlood >= intervals / 2, duringFlood + " reports over " + intervals + " intervals of flood");
            assertTrue(duringFlood <= intervals + 1, duringFlood + " reports over " + intervals + " intervals of flood");
            assertTrue(onWorkspaceW.stream().anyMatch(c -> c.activity().liveWebSockets() == 1));
            WorkspaceActivity lastW = onWorkspaceW.get(onWorkspaceW.size() - 1).activity();
            assertEquals(0, lastW.liveWebSockets(), "the close was reported");
            assertEquals("alice", lastW.user());
            assertEquals("bob", onWorkspaceA.get(onWorkspaceA.size() - 1).activity().user());
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theBackgroundThreadEndsWithTheWebApplication(Container kind) throws Exception {
        for (Container.Install install : Container.Install.values()) {
            long before = activityThreads();
            IdeProxy proxy = proxy(activity -> { });
            try (Container.Running server = kind.start(install, "", proxy::install)) {
                assertEquals(before + 1, activityThreads(), install + ": one thread per installed proxy");
                server.stopWebapp();
                waitUntil(() -> activityThreads() == before, install + ": the thread to end with the web application");
            }
        }
    }

    private static long activityThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().equals(ActivityTracker.THREAD_NAME)).count();
    }

    private static void waitUntil(Condition condition, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.holds()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @FunctionalInterface
    private interface Condition {
        boolean holds() throws Exception;
    }
}

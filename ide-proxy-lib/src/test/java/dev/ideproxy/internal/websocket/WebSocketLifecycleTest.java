package dev.ideproxy.internal.websocket;

import static dev.ideproxy.internal.websocket.TunnelFixture.CONTEXT;
import static dev.ideproxy.internal.websocket.TunnelFixture.WAIT;
import static dev.ideproxy.internal.websocket.TunnelFixture.close;
import static dev.ideproxy.internal.websocket.TunnelFixture.waitUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.WebSocketUpstream;
import jakarta.servlet.ServletContext;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The WebSocket tunnel over its life on both containers: thousands of sessions leave no relay, thread,
 * file or upstream session behind, and destroying the web application closes its sessions with 1001
 * and stops the upstream client, whichever way the proxy was installed.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class WebSocketLifecycleTest {
    @RegisterExtension
    static final TunnelFixture fixture = new TunnelFixture().upstream("b", "B");

    final WebSocketUpstream upstreamB = fixture.upstream("b");

    @ParameterizedTest
    @EnumSource(Container.class)
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void twoThousandSessionsLeaveNothingBehind(Container kind) throws Exception {
        WebSocketTunnel tunnel = fixture.tunnel(kind);
        fixture.cookie(kind, "b");
        // Warm up, so pools have grown to their working size before the baseline is taken.
        runSessions(kind, 40, 20);
        // Settled: the relays, the proxy's upstream client sessions and the upstream's own sessions are
        // all gone (a relay ends before the upstream has read its close frame, so wait for each).
        awaitNoSessions(kind, tunnel);
        int baseThreads = Thread.activeCount();
        long baseClientThreads = clientThreads(tunnel);
        long baseFiles = openFiles();

        long start = System.nanoTime();
        runSessions(kind, 2_000, 20);
        long millis = (System.nanoTime() - start) / 1_000_000;

        awaitNoSessions(kind, tunnel);
        // Pools (the containers', the client's) may have grown a little under load; sessions own no threads.
        waitUntil(() -> Thread.activeCount() <= baseThreads + 40, WAIT,
                () -> "threads back near " + baseThreads + ", now " + Thread.activeCount());
        waitUntil(() -> openFiles() <= baseFiles + 40, WAIT, "file descriptors back near " + baseFiles);
        long clientThreads = clientThreads(tunnel);
        System.out.printf("[%s] 2000 sessions in %d ms; threads %d -> %d (client pool %d -> %d), open files %d -> %d%n",
                kind, millis, baseThreads, Thread.activeCount(), baseClientThreads, clientThreads, baseFiles, openFiles());
        assertTrue(clientThreads <= baseClientThreads + 20, "client pool grew from " + baseClientThreads + " to " + clientThreads);
    }

    private void awaitNoSessions(Container kind, WebSocketTunnel tunnel) throws InterruptedException {
        fixture.awaitNoRelays(kind);
        waitUntil(() -> tunnel.connector().openSessions() == 0, WAIT,
                () -> "upstream client sessions to close, " + tunnel.connector().openSessions() + " open");
        waitUntil(() -> upstreamB.openSessions() == 0, WAIT,
                () -> "upstream server sessions to close, " + upstreamB.openSessions() + " open");
    }

    private static long clientThreads(WebSocketTunnel tunnel) {
        String prefix = tunnel.connector().threadName() + "-";
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().startsWith(prefix)).count();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void destroyingTheWebappClosesSessionsWith1001AndStopsTheClient(Container kind) throws Exception {
        // Installed from an initializer the tunnel registers a listener; from a declared listener (the
        // WAR's way), where the specification forbids that, a servlet's destroy() stops it instead.
        for (Container.Install install : Container.Install.values()) {
            destroyTheWebapp(kind, install);
        }
    }

    private void destroyTheWebapp(Container kind, Container.Install install) throws Exception {
        IdeProxyConfig config = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                    .set(ConfigOption.WS_MODE, TunnelFixture.MODE)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "b=" + upstreamB.uri())
                .build();
        IdeProxy proxy = IdeProxy.builder(config).build();
        ServletContext[] context = new ServletContext[1];
        try (Container.Running server = kind.start(install, CONTEXT, c -> {
            proxy.install(c);
            context[0] = c;
        })) {
            WebSocketTunnel tunnel = WebSocketTunnel.of(context[0]);
            assertEquals(install == Container.Install.DECLARED_LISTENER,
                    context[0].getServletRegistration("ide-proxy-websocket-lifecycle") != null,
                    install + ": the lifecycle servlet is the fallback only");
            String cookie = new Browser(server).session("b", "alice");
            BrowserSocket socket = fixture.open(server, "b", "/echo", cookie, r -> { });
            socket.session().sendText("before", Callback.NOOP);
            assertEquals("B|before", socket.nextMessage(WAIT).text());
            String threads = tunnel.connector().threadName() + "-";
            assertTrue(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith(threads)));
            upstreamB.clearCloses();

            server.stopWebapp(); // an undeploy or redeploy: the context is destroyed, the server runs on

            BrowserSocket.Closed closed = socket.closed().get(20, TimeUnit.SECONDS);
            assertEquals(1012, closed.code(), install + ": " + closed); // an undeploy drains: service restart
            WebSocketUpstream.Closed upstreamClosed = upstreamB.nextClose(WAIT);
            assertNotNull(upstreamClosed);
            assertEquals(1001, upstreamClosed.code());
            assertEquals(0, tunnel.relays().size());
            assertTrue(tunnel.connector().isStopped(), "the upstream client is stopped");
            waitUntil(() -> Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.isAlive() && t.getName().startsWith(threads)), WAIT, "the client's threads to end");
        }
    }

    /** Opens, uses and closes {@code count} sessions to workspace b, {@code parallel} at a time. */
    private void runSessions(Container kind, int count, int parallel) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            List<Future<?>> batch = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int n = i;
                batch.add(pool.submit((Callable<Void>) () -> {
                    BrowserSocket socket = fixture.open(kind, "b", "/echo", r -> { });
                    socket.session().sendText("n" + n, Callback.NOOP);
                    BrowserSocket.Message reply = socket.nextMessage(WAIT);
                    assertNotNull(reply);
                    assertEquals("B|n" + n, reply.text());
                    close(socket);
                    return null;
                }));
            }
            for (Future<?> f : batch) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static long openFiles() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.UnixOperatingSystemMXBean unix ? unix.getOpenFileDescriptorCount() : 0;
    }
}

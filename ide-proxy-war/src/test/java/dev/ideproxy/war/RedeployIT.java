package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Hot redeploy of the unmodified WAR, 20 times, in the real Tomcat 11 and Jetty 12, under light load,
 * leaks nothing: the container's JVM ends with as many threads, open files, loaded classes and as
 * much metaspace as after the 2nd deployment (within the bounds below), at most two generations of
 * the web application's class loader are alive after a full collection, Tomcat's own check (its Host
 * MBean's {@code findReloadedContextMemoryLeaks}, the manager's "find leaks") finds none, and neither
 * container logs a leak warning or a stack trace of ide-proxy. The JVM is looked into as an operator
 * would ({@link JvmProbe}: JMX through the attach mechanism, {@code /proc}, {@code jcmd}).
 *
 * <p>Each deployment serves before the next: a mint and bootstrap, tunnel requests, a metrics scrape
 * and a WebSocket echo, whose session stays open into the redeploy and must be closed by it. A
 * background client sends a tunnel request every 100 ms throughout, so requests arrive while the
 * application stops and starts. Redeploy the usual way: touch the context file (Tomcat's
 * {@code conf/Catalina/localhost/ide.xml}, Jetty's {@code webapps/ide.xml}), which both check every
 * second here. (Tomcat's {@code Deployer} MBean's {@code check} cannot be used from JMX: it parses the
 * context file with the RMI thread's class loader and fails.) Once more in Tomcat with the stores in
 * a real Redis, whose client (Lettuce on Netty) brings threads and {@code ThreadLocal}s of its own.
 *
 * <p>To look into a leak: {@code -Dredeploy.count=4 -Dredeploy.only=JETTY_12 -Dredeploy.heapdump=/tmp/rd}
 * ({@code only} is TOMCAT_11, JETTY_12 or REDIS)
 * on the Maven command line; the failure message names the classes with live instances in more
 * loaders than allowed, and the heap dump shows what holds the old loader.
 */
class RedeployIT {
    static final String SECRET = "redeploy-test-secret-0123456789abcdef";
    static final String PORTAL_SECRET = "redeploy-portal-secret-0123456789abcdef";
    static final String REDIS_PASSWORD = "redeploy-redis-password-0123456789";
    /** 20; fewer with {@code -Dredeploy.count=N} when looking into a leak. */
    static final int REDEPLOYS = Integer.getInteger("redeploy.count", 20);
    /**
     * The bounds: room for the containers' pools and the JIT's classes, less than one copy of the WAR
     * kept (about 1,700 classes and 10 MiB of metaspace). The measured figures are in
     * docs/deployment.md ("Redeploying").
     */
    static final int MORE_THREADS = 5;
    static final int MORE_FILES = 20;
    static final int MORE_CLASSES = 800;
    static final long MORE_METASPACE = 6L << 20;
    /** The current application's loader, and one whose collection the last full GC may not have finished. */
    static final int LOADERS = 2;
    static final Pattern LEAK = Pattern.compile(
            "appears to have started a thread|failed to remove it|failed to unregister|memory leak|forcibly",
            Pattern.CASE_INSENSITIVE);

    @TempDir
    Path work;

    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();
    /**
     * WebSockets only, so each handshake gets a connection of its own, as in a browser. The JDK client
     * sends a handshake on an idle kept-alive connection of its pool when it has one; when that was the
     * connection's 100th request (Tomcat's maxKeepAliveRequests), Tomcat adds "close" to the 101's
     * Connection header and the JDK client refuses the answer (CI saw it once, under the background load).
     */
    final HttpClient sockets = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @ParameterizedTest
    @EnumSource(value = Distribution.class, names = {"TOMCAT_11", "JETTY_12"})
    void redeployingTwentyTimesLeaksNothing(Distribution distribution) throws Exception {
        String only = System.getProperty("redeploy.only"); // e.g. -Dredeploy.only=JETTY_12 when looking into one
        org.junit.jupiter.api.Assumptions.assumeTrue(only == null || only.isEmpty() || only.equals(distribution.name()));
        redeploy(distribution, Map.of());
    }

    /**
     * The same with the stores in a real, password-protected Redis (Lettuce, Netty and their threads
     * in the WAR), in Tomcat, which reports threads and {@code ThreadLocal}s left behind.
     */
    @org.junit.jupiter.api.Test
    void redeployingWithRedisLeaksNothing() throws Exception {
        String only = System.getProperty("redeploy.only");
        org.junit.jupiter.api.Assumptions.assumeTrue(only == null || only.isEmpty() || only.equals("REDIS"));
        try (dev.ideproxy.redis.RedisServer redis = dev.ideproxy.redis.RedisServer.start(REDIS_PASSWORD, List.of())) {
            redeploy(Distribution.TOMCAT_11, Map.of("ide-proxy.store.redis-uri", redis.uri()));
        }
    }

    private void redeploy(Distribution distribution, Map<String, String> more) throws Exception {
        long started = System.nanoTime();
        Map<String, String> configuration = new java.util.HashMap<>(more);
        try (TestUpstream upstream = new TestUpstream();
             TestWebSocketUpstream sockets = new TestWebSocketUpstream();
             Distribution.Running container = distribution.start(StandaloneWarIT.WAR, "/ide", with(configuration,
                     "ide-proxy.token.secret", SECRET,
                     "ide-proxy.auth.jwt.hs256-secret", PORTAL_SECRET,
                     "ide-proxy.targets", "w1=" + upstream.uri() + ",ws1=" + sockets.uri(),
                     "ide-proxy.metrics.prometheus.path", "/api/metrics",
                     "ide-proxy.metrics.prometheus.loopback-only", "true"), work);
             JvmProbe jvm = JvmProbe.attach(container.process.pid());
             Background load = new Background(container)) {
            Path contextFile = distribution == Distribution.JETTY_12
                    ? work.resolve("jetty_12-" + container.base.getPort()).resolve("webapps/ide.xml")
                    : work.resolve("tomcat_11-" + container.base.getPort()).resolve("conf/Catalina/localhost/ide.xml");
            // Jetty 12.1's ee10 contexts use the shared ee loader.
            List<String> loaderClasses = distribution == Distribution.JETTY_12
                    ? List.of("org.eclipse.jetty.ee.webapp.WebAppClassLoader", "org.eclipse.jetty.ee10.webapp.WebAppClassLoader")
                    : List.of("org.apache.catalina.loader.ParallelWebappClassLoader");
            List<String> watched = new ArrayList<>(loaderClasses);
            watched.add("dev.ideproxy.IdeProxy");
            long startedUp = System.nanoTime();

            Open open = serve(container, load);
            Baseline before = null;
            List<Integer> closeCodes = new ArrayList<>();
            List<String> timings = new ArrayList<>(); // ms from the touch to serving, + ms of the round of load
            for (int i = 1; i <= REDEPLOYS; i++) {
                int installed = installs(container);
                long t0 = System.nanoTime();
                redeploy(contextFile);
                awaitInstalled(container, installed + 1);
                container.awaitReady();
                long t1 = System.nanoTime();
                closeCodes.add(awaitClosed(open, container));
                open = serve(container, load);
                timings.add(TimeUnit.NANOSECONDS.toMillis(t1 - t0) + "+" + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1));
                if (i == 2) {
                    before = Baseline.take(jvm, watched, loaderClasses);
                }
            }
            long redeployed = System.nanoTime();
            Baseline after = Baseline.take(jvm, watched, loaderClasses);
            Object leaks = distribution == Distribution.JETTY_12 ? null
                    : jvm.invoke("Catalina:type=Host,host=localhost", "findReloadedContextMemoryLeaks", new Object[0], new String[0]);
            load.stop();
            // Both baselines were taken under the background load, whose sockets come and go (keep-alive
            // connections, those of the failed requests during each redeploy, closed after Tomcat's 20 s
            // connection timeout): a leak stays, a socket in passing does not.
            int files = after.files;
            long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (files > before.files + MORE_FILES && System.nanoTime() < settle) {
                Thread.sleep(500);
                files = jvm.openFiles();
            }
            Map<String, Long> fileKinds = jvm.openFileKinds();
            String dump = System.getProperty("redeploy.heapdump"); // a file to look into a leak with
            if (dump != null && !dump.isEmpty()) {
                new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                        Long.toString(container.process.pid()), "GC.heap_dump", dump + "-" + distribution + ".hprof")
                        .inheritIO().start().waitFor(120, TimeUnit.SECONDS);
            }

            String report = distribution + (more.isEmpty() ? "" : " " + more.keySet()) + ": " + REDEPLOYS + " redeploys in "
                    + TimeUnit.NANOSECONDS.toSeconds(redeployed - startedUp) + " s (start " + TimeUnit.NANOSECONDS.toSeconds(
                    startedUp - started) + " s; ms per redeploy + load " + timings + "); before (after the 2nd) " + before + "; after the " + REDEPLOYS + "th " + after
                    + "; background requests " + load.ok + " ok, " + load.failed + " failed; WebSocket close codes " + closeCodes
                    + (leaks == null ? "" : "; findLeaks " + JvmProbe.join(leaks))
                    + "; classes with live instances in more than " + LOADERS + " loaders: " + after.copies;
            System.out.println(report);
            String log = String.join("\n", container.output);

            assertTrue(after.threads <= before.threads + MORE_THREADS, "threads grew: " + report + "\nnew: "
                    + JvmProbe.grown(before.threadNames, after.threadNames));
            assertTrue(files <= before.files + MORE_FILES, "open files grew: " + report + "; open files once the load stopped "
                    + files + " " + fileKinds);
            assertTrue(after.classes <= before.classes + MORE_CLASSES, "loaded classes grew: " + report);
            assertTrue(after.metaspace <= before.metaspace + MORE_METASPACE, "metaspace grew: " + report);
            int loaders = loaderClasses.stream().mapToInt(c -> after.live.get(c)[0]).sum();
            assertTrue(loaders >= 1 && loaders <= LOADERS, "web application class loaders alive: " + report);
            int[] proxies = after.live.get("dev.ideproxy.IdeProxy");
            assertTrue(proxies[1] >= 1 && proxies[1] <= LOADERS, "copies of IdeProxy's class alive: " + report);
            if (leaks != null) {
                assertEquals(0, JvmProbe.strings(leaks).length, "Tomcat's findLeaks: " + report);
            }
            List<String> suspicious = container.output.stream()
                    .filter(l -> LEAK.matcher(l).find() || l.contains("at dev.ideproxy.")).toList();
            assertEquals(List.of(), suspicious, "leak warnings or ide-proxy stack traces in the container's log:\n" + log);
            assertTrue(load.ok.get() > 0, report);
            assertTrue(closeCodes.stream().allMatch(c -> c == 1001 || c == 1012), "each redeploy closes the WebSocket "
                    + "with 1001 or 1012: " + report);
        }
    }

    private static Map<String, String> with(Map<String, String> configuration, String... pairs) {
        for (int i = 0; i < pairs.length; i += 2) {
            configuration.put(pairs[i], pairs[i + 1]);
        }
        return configuration;
    }

    /** The figures compared: taken after full collections, with the background load running. */
    record Baseline(int threads, Map<String, Integer> threadNames, int files, int classes, long metaspace, long heap,
                    Map<String, int[]> live, List<String> copies) {
        /**
         * Waits up to 15 s for the old deployments' loaders to go: right after a redeploy they may still
         * be held for a moment, e.g. by Netty's threads ending after the Redis client closed (their
         * context class loader). A pinned loader stays.
         */
        static Baseline take(JvmProbe jvm, List<String> watched, List<String> loaderClasses) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            List<JvmProbe.Row> histogram = jvm.histogram(); // collects first
            while (loaders(histogram, loaderClasses) > LOADERS && System.nanoTime() < deadline) {
                Thread.sleep(1_000);
                histogram = jvm.histogram();
            }
            jvm.gc();
            return new Baseline(jvm.threadCount(), jvm.threads(), jvm.openFiles(), jvm.loadedClasses(),
                    jvm.metaspaceUsed(), jvm.heapUsed(), JvmProbe.count(histogram, watched),
                    JvmProbe.inMoreLoaders(histogram, LOADERS));
        }

        static int loaders(List<JvmProbe.Row> histogram, List<String> loaderClasses) {
            return JvmProbe.count(histogram, loaderClasses).values().stream().mapToInt(c -> c[0]).sum();
        }

        @Override
        public String toString() {
            return "threads " + threads + ", open files " + files + ", classes " + classes + ", metaspace "
                    + (metaspace >> 20) + " MiB, heap " + (heap >> 20) + " MiB, " + JvmProbe.describe(live);
        }
    }

    /** Touches the context file: both containers check it every second (see {@link Distribution}) and redeploy. */
    private static void redeploy(Path contextFile) throws Exception {
        // A later modification time than any before (a second's resolution is not assumed).
        Instant last = Files.getLastModifiedTime(contextFile).toInstant();
        Files.setLastModifiedTime(contextFile, FileTime.from(last.plusSeconds(2).isAfter(Instant.now())
                ? last.plusSeconds(2) : Instant.now()));
    }

    /** How many times ide-proxy has been installed so far (its one line per deployment). */
    private static int installs(Distribution.Running container) {
        return (int) container.output.stream().filter(l -> l.contains("ide-proxy installed on")).count();
    }

    private static void awaitInstalled(Distribution.Running container, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (installs(container) < count && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(installs(container) >= count, "not redeployed:\n" + String.join("\n", container.output));
    }

    /**
     * One round of the light load on the current deployment: mint and bootstrap, tunnel requests, a
     * scrape, and a WebSocket echo whose session is left open. Returns that session.
     */
    private Open serve(Distribution.Running container, Background load) throws Exception {
        String cookie = session(container, "w1");
        load.cookie = cookie;
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(container.uri("/__ide/w1/page/" + i))
                    .header("Cookie", cookie).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode(), page.body());
            assertEquals("workspace says hi to " + container.hostHeader() + " at /page/" + i, page.body());
        }
        HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(container.uri("/api/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, metrics.statusCode(), metrics.body());

        String wsCookie = session(container, "ws1");
        WholeMessages echoes = new WholeMessages();
        WebSocket socket = sockets.newWebSocketBuilder().header("Cookie", wsCookie)
                .buildAsync(URI.create("ws://" + container.hostHeader() + "/ide/__ide/ws1/socket"), echoes)
                .get(20, TimeUnit.SECONDS);
        socket.sendText("hello", true).get(10, TimeUnit.SECONDS);
        assertEquals("echo:/socket:hello", echoes.nextText(java.time.Duration.ofSeconds(20)));
        return new Open(socket, echoes);
    }

    /** A WebSocket session left open, and what it received. */
    record Open(WebSocket socket, WholeMessages echoes) {
    }

    /** Waits until the redeploy has closed the session; returns its close code (1006 for a dropped connection). */
    private static int awaitClosed(Open open, Distribution.Running container) throws Exception {
        try {
            return open.echoes().closed().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the redeploy left a WebSocket open:\n" + String.join("\n", container.output));
        }
    }

    /** Mint and bootstrap for {@code workspace}; returns the session cookie's {@code name=value}. */
    private String session(Distribution.Running container, String workspace) throws Exception {
        return WarPortal.session(http, container.uri("/api/dev/" + workspace + "/ide-token"),
                WarPortal.bearer(PORTAL_SECRET, "alice", workspace));
    }

    /**
     * A tunnel request every 100 ms with the latest session cookie, through the redeploys: some fail
     * while the application is away (counted, not asserted), the rest reach the workspace.
     */
    final class Background implements AutoCloseable {
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        volatile String cookie;
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final Thread thread;

        Background(Distribution.Running container) {
            thread = new Thread(() -> {
                while (running.get()) {
                    String c = cookie;
                    if (c != null) {
                        try {
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(container.uri("/__ide/w1/background"))
                                    .timeout(Duration.ofSeconds(5)).header("Cookie", c).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            (r.statusCode() == 200 ? ok : failed).incrementAndGet();
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                    }
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "redeploy-background-load");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(10_000);
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }
}

package dev.ideproxy.war.soak;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.ideproxy.war.WholeMessages;
import dev.ideproxy.war.soak.SoakProxy.Sample;
import dev.ideproxy.war.soak.SoakVerdict.Judgement;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The soak: a mixed, moderate load against a real ide-proxy (the standalone WAR in its own process)
 * for a given duration, sampling the proxy at regular intervals and judging whether anything keeps
 * growing ({@link SoakVerdict}). Run by {@code bench/soak} (30 minutes) and by {@code SoakIT} (2).
 *
 * <p>The load, from {@link #WORKERS} workers, each its own user with its own session, pausing
 * {@link #THINK_MILLIS} between operations ({@link #FAILURE_PAUSE_MILLIS} after a failure): small pages, 4 MiB downloads and uploads, WebSockets
 * opened, echoed (text and binary) and closed, fresh bootstraps (mint with a bearer JWT, then the
 * link); besides, every {@link #revokeInterval} one user's sessions are revoked (and the old cookie
 * must then get 401, its WebSockets 1008) and the worker bootstraps again; every
 * {@link #restartInterval} the upstream (HTTP and WebSocket on one port) is stopped for a second
 * and started again on the same port.
 *
 * <p>Samples are taken with the load paused ({@link #gate}: operations under way finish, none
 * starts, for a few seconds), so that live relays and upstream connections count what is left over,
 * not what happens to be in flight. Failures are expected only around a restart of the upstream or
 * after a revocation of the user's sessions; any other is "unexpected", and more than 1 % of the
 * operations unexpected fails the run, as does a kind of operation that never succeeded.
 */
public final class Soak {
    static final int WORKERS = 3;
    static final long THINK_MILLIS = 100;
    static final long FAILURE_PAUSE_MILLIS = 500;
    static final int STREAM_BYTES = 4 << 20;
    static final long TOLERANCE_NANOS = TimeUnit.SECONDS.toNanos(5);
    static final String WORKSPACE = "w1";
    static final String TOKEN_SECRET = "soak-token-secret-0123456789abcdef-0123456789";
    static final String PORTAL_SECRET = "soak-portal-secret-0123456789abcdef-012345678";
    static final String SCRAPE_SECRET = "soak-scrape-secret-0123456789abcdef-012345678";
    static final List<String> DEFAULT_JAVA_OPTIONS = List.of("-Xms256m", "-Xmx256m", "-XX:+UseG1GC");

    private static final byte[] UPLOAD = new byte[STREAM_BYTES];
    /** The upstream's restarts would log a few INFO lines each (held: the JDK keeps loggers weakly). */
    private static final java.util.logging.Logger JETTY_LOG = java.util.logging.Logger.getLogger("org.eclipse.jetty");

    static {
        JETTY_LOG.setLevel(java.util.logging.Level.WARNING);
    }
    private static final Pattern BOOTSTRAP_URL = Pattern.compile("\"bootstrapUrl\":\"([^\"]+)\"");

    private final Duration duration;
    private final Path war;
    private final List<String> javaOptions;
    private final PrintStream out;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock(true);
    private final Object upstreamLock = new Object();
    private final List<long[]> restarts = new CopyOnWriteArrayList<>();
    private final Map<String, AtomicLong> succeeded = new ConcurrentHashMap<>();
    private final AtomicLong tolerated = new AtomicLong();
    private final Map<String, AtomicLong> toleratedBy = new ConcurrentHashMap<>();
    private final Map<Integer, String> operationsAt = new ConcurrentHashMap<>();
    private final AtomicLong unexpected = new AtomicLong();
    private final List<String> unexpectedExamples = new CopyOnWriteArrayList<>();
    private final List<Worker> workers = new ArrayList<>();
    private volatile boolean running = true;
    private SoakUpstream upstream;
    private SoakProxy proxy;
    private Path proxyLog;

    Soak(Duration duration, Path war, List<String> javaOptions, PrintStream out) {
        this.duration = duration;
        this.war = war;
        this.javaOptions = javaOptions;
        this.out = out;
    }

    /** Where to write the proxy's own output when the soak ends (null: nowhere). */
    Soak proxyLog(Path file) {
        this.proxyLog = file;
        return this;
    }

    /** Every {@code duration / 12}, within 10 s to 1 min: 30 samples in 30 minutes, 12 in 2. */
    Duration sampleInterval() {
        return clamp(duration.dividedBy(12), Duration.ofSeconds(10), Duration.ofMinutes(1));
    }

    /** Every minute; in short runs every {@code duration / 6}, at least every 10 s. */
    Duration restartInterval() {
        return clamp(duration.dividedBy(6), Duration.ofSeconds(10), Duration.ofMinutes(1));
    }

    /** Every 15 s; in short runs every {@code duration / 8}. */
    Duration revokeInterval() {
        return clamp(duration.dividedBy(8), Duration.ofSeconds(5), Duration.ofSeconds(15));
    }

    private static Duration clamp(Duration d, Duration min, Duration max) {
        return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
    }

    /** The outcome: samples, judgements, operation counts and the verdict, with a printable report. */
    record Result(List<Sample> samples, List<Judgement> judgements, Map<String, Long> succeeded, long tolerated,
                  long unexpected, List<String> unexpectedExamples, List<String> problems, String report) {
        boolean passed() {
            return problems.isEmpty();
        }
    }

    Result run() throws Exception {
        List<Sample> samples = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        upstream = new SoakUpstream();
        try {
            proxy = new SoakProxy(war, javaOptions, Map.of(
                    "IDE_PROXY_TOKEN_SECRET", TOKEN_SECRET,
                    "IDE_PROXY_AUTH_JWT_HS256_SECRET", PORTAL_SECRET,
                    "IDE_PROXY_TARGETS", WORKSPACE + "=" + upstream.uri(),
                    // The load's bootstraps stay under the defaults; raised so that bursts after
                    // revocations never meet a 429 that would hide what is being measured.
                    "IDE_PROXY_LIMIT_MINT_PER_USER", "600/1m",
                    "IDE_PROXY_LIMIT_MINT_PER_WORKSPACE", "600/1m",
                    "IDE_PROXY_LIMIT_BOOTSTRAP_PER_USER", "600/1m",
                    "IDE_PROXY_LIMIT_BOOTSTRAP_PER_WORKSPACE", "600/1m"), SCRAPE_SECRET);
            out.printf(Locale.ROOT, "soak: %s against pid %d (%s), upstream %s; samples every %ss, upstream restarts every"
                    + " %ss, revocations every %ss%n", duration, proxy.pid(), String.join(" ", javaOptions), upstream.uri(),
                    sampleInterval().toSeconds(), restartInterval().toSeconds(), revokeInterval().toSeconds());
            for (int i = 0; i < WORKERS; i++) {
                workers.add(new Worker("soak-user-" + i, new Random(42 + i)));
            }
            long start = System.nanoTime();
            long interval = sampleInterval().toNanos();
            for (Worker worker : workers) {
                threads.add(daemon(worker, worker.user));
            }
            threads.add(daemon(() -> restarter(start + interval / 2), "soak-restarter"));
            threads.add(daemon(this::revoker, "soak-revoker"));
            int count = (int) (duration.toNanos() / interval);
            for (int i = 1; i <= count; i++) {
                sleepUntil(start + i * interval);
                if (!proxy.alive()) {
                    break;
                }
                Sample sample = sample(i, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start));
                samples.add(sample);
                operationsAt.put(i, succeeded.values().stream().mapToLong(AtomicLong::get).sum() + "/" + tolerated.get()
                        + "/" + unexpected.get());
                out.println(row(sample));
            }
        } finally {
            running = false;
            for (Thread t : threads) { // the workers, the restarter and the revoker
                t.interrupt();
                t.join(TimeUnit.SECONDS.toMillis(40));
            }
            boolean alive = proxy != null && proxy.alive();
            if (proxy != null) {
                proxy.close();
            }
            upstream.close();
            if (proxy != null && proxyLog != null) {
                Files.write(proxyLog, proxy.output(), StandardCharsets.UTF_8);
            }
            if (proxy != null && !alive) {
                out.println("the proxy died:\n" + String.join("\n", proxy.output()));
            }
        }
        return result(samples);
    }

    private Sample sample(int index, long seconds) throws Exception {
        synchronized (upstreamLock) {
            gate.writeLock().lock();
            try {
                Thread.sleep(1000); // closes that are under way (relays, upstream connections) finish
                return proxy.sample(index, seconds, upstream.port());
            } finally {
                gate.writeLock().unlock();
            }
        }
    }

    private Result result(List<Sample> samples) {
        List<String> problems = new ArrayList<>();
        List<Judgement> judgements = List.of();
        try {
            judgements = SoakVerdict.judge(samples);
            judgements.stream().filter(j -> !j.passed()).forEach(j -> problems.add("keeps growing: " + j));
        } catch (IllegalArgumentException e) {
            problems.add(e.getMessage());
        }
        Map<String, Long> counts = new TreeMap<>();
        succeeded.forEach((k, v) -> counts.put(k, v.get()));
        for (String kind : List.of("page", "download", "upload", "websocket", "bootstrap", "revoke", "restart")) {
            if (counts.getOrDefault(kind, 0L) == 0) {
                problems.add("no " + kind + " ever succeeded");
            }
        }
        long total = counts.values().stream().mapToLong(Long::longValue).sum() + tolerated.get() + unexpected.get();
        if (unexpected.get() * 100 > total) {
            problems.add(unexpected.get() + " unexpected failures in " + total + " operations (more than 1 %)");
        }
        StringBuilder report = new StringBuilder();
        report.append(String.format(Locale.ROOT, "ide-proxy soak: %s, proxy %s, %d workers%n%n", duration,
                String.join(" ", javaOptions), WORKERS));
        report.append(header()).append('\n');
        samples.forEach(s -> report.append(row(s)).append('\n'));
        report.append(String.format(Locale.ROOT, "%nwarm-up: first %d samples; judged: %d%n",
                samples.size() - SoakVerdict.judged(samples).size(), SoakVerdict.judged(samples).size()));
        judgements.forEach(j -> report.append(j).append('\n'));
        report.append(String.format(Locale.ROOT, "%noperations that succeeded: %s%nfailures expected (by operation and"
                + " cause): %d %s; unexpected: %d%n", counts, tolerated.get(), new TreeMap<>(toleratedBy), unexpected.get()));
        unexpectedExamples.forEach(e -> report.append("  unexpected: ").append(e).append('\n'));
        if (proxy != null) {
            List<String> log = proxy.output();
            report.append(String.format(Locale.ROOT, "the proxy's log: %d lines, %d WARNING, %d SEVERE, %d stack-trace"
                    + " lines%s (not judged)%n", log.size(), log.stream().filter(l -> level(l, "WARNING")).count(),
                    log.stream().filter(l -> level(l, "SEVERE")).count(),
                    log.stream().filter(l -> l.startsWith("\tat ")).count(), proxyLog == null ? "" : ", in " + proxyLog));
        }
        report.append(problems.isEmpty() ? "VERDICT: PASS (nothing keeps growing)\n" : "VERDICT: FAIL\n");
        problems.forEach(p -> report.append("  ").append(p).append('\n'));
        return new Result(samples, judgements, counts, tolerated.get(), unexpected.get(), List.copyOf(unexpectedExamples),
                problems, report.toString());
    }

    /** Whether a line of the proxy's log has this level ("12:00:00 WARNING logger - message", or JUL's own format). */
    private static boolean level(String line, String level) {
        return line.startsWith(level + ":") || line.matches("^\\S+ " + level + " .*");
    }

    static String header() {
        return String.format(Locale.ROOT, "%3s %6s %9s %10s %8s %6s %7s %9s %8s %6s %s", "#", "t (s)", "heap MiB",
                "metaspace", "threads", "fds", "relays", "upstream", "proxy CPU", "load", "ops ok/expected/unexpected");
    }

    String row(Sample s) {
        return String.format(Locale.ROOT, "%3d %6d %9.1f %10.1f %8.0f %6.0f %7.0f %9.0f %8.1fs %6.2f", s.index(),
                s.seconds(), s.heapMiB(), s.metaspaceMiB(), s.threads(), s.openFiles(), s.relays(), s.upstreamConnections(),
                s.cpuSeconds(), s.load()) + "  " + operationsAt.getOrDefault(s.index(), "");
    }

    // ------------------------------------------------------------------ the load

    /**
     * Restarts the upstream from {@code first} (nanoTime) on: half a sample interval out of step
     * with the samples, so that they are never taken just after a restart has cut everything.
     */
    private void restarter(long first) {
        long interval = restartInterval().toNanos();
        long next = first;
        while (running) {
            if (!sleepUntil(next)) {
                return;
            }
            next += interval;
            synchronized (upstreamLock) {
                long[] window = {System.nanoTime(), Long.MAX_VALUE};
                restarts.add(window);
                try {
                    upstream.restart(1000);
                    succeeded("restart");
                } catch (InterruptedException e) {
                    return; // the soak is over
                } catch (Exception e) {
                    unexpected("restart", e);
                } finally {
                    window[1] = System.nanoTime();
                }
            }
        }
    }

    private void revoker() {
        long interval = revokeInterval().toNanos();
        long next = System.nanoTime() + interval;
        for (int i = 0; running; i++) {
            if (!sleepUntil(next)) {
                return;
            }
            next += interval;
            Worker worker = workers.get(i % workers.size());
            gate.readLock().lock();
            long began = System.nanoTime();
            try {
                String oldCookie = worker.cookie;
                worker.revokedAt = System.currentTimeMillis();
                HttpResponse<String> revoked = http.send(post("/api/dev/" + WORKSPACE + "/revoke?user=" + worker.user,
                        portalBearer("soak-portal", true)), HttpResponse.BodyHandlers.ofString());
                check(revoked.statusCode() == 200, "revoke answered " + revoked.statusCode() + ": " + revoked.body());
                if (oldCookie != null) {
                    HttpResponse<String> after = http.send(get("/__ide/" + WORKSPACE + "/after-revoke")
                            .header("Cookie", oldCookie).build(), HttpResponse.BodyHandlers.ofString());
                    check(after.statusCode() == 401, "a revoked cookie answered " + after.statusCode());
                }
                succeeded("revoke");
            } catch (InterruptedException e) {
                return;
            } catch (Exception e) {
                failed("revoke", began, null, e);
            } finally {
                gate.readLock().unlock();
            }
        }
    }

    /** One user's browser: a session, and operations on it until the soak ends. */
    private final class Worker implements Runnable {
        final String user;
        final Random random;
        volatile String cookie;
        volatile long mintedAt;
        volatile long revokedAt;

        Worker(String user, Random random) {
            this.user = user;
            this.random = random;
        }

        @Override
        public void run() {
            while (running) {
                int pick = random.nextInt(100);
                String kind = cookie == null || pick < 10 ? "bootstrap" : pick < 55 ? "page" : pick < 62 ? "download"
                        : pick < 69 ? "upload" : "websocket";
                gate.readLock().lock();
                long began = System.nanoTime();
                try {
                    switch (kind) {
                        case "bootstrap" -> bootstrap();
                        case "page" -> page();
                        case "download" -> download();
                        case "upload" -> upload();
                        default -> webSocket();
                    }
                    succeeded(kind);
                } catch (InterruptedException e) {
                    return;
                } catch (Exception e) {
                    if (failed(kind, began, this, e)) {
                        cookie = null; // revoked: wait out the revocation's second, then a fresh bootstrap
                        pause(1100);
                    } else {
                        pause(FAILURE_PAUSE_MILLIS); // as a browser's retry would: no hammering of a 502
                    }
                } finally {
                    gate.readLock().unlock();
                }
                pause(THINK_MILLIS);
            }
        }

        void bootstrap() throws Exception {
            mintedAt = System.currentTimeMillis();
            HttpResponse<String> minted = http.send(post("/api/dev/" + WORKSPACE + "/ide-token", portalBearer(user, false)),
                    HttpResponse.BodyHandlers.ofString());
            check(minted.statusCode() == 200, "mint answered " + minted.statusCode() + ": " + minted.body());
            Matcher m = BOOTSTRAP_URL.matcher(minted.body());
            check(m.find(), "no bootstrapUrl in " + minted.body());
            HttpResponse<String> boot = http.send(get(m.group(1)).build(), HttpResponse.BodyHandlers.ofString());
            check(boot.statusCode() == 303, "bootstrap answered " + boot.statusCode() + ": " + boot.body());
            String setCookie = boot.headers().firstValue("Set-Cookie").orElseThrow();
            cookie = setCookie.substring(0, setCookie.indexOf(';'));
        }

        void page() throws Exception {
            int n = random.nextInt(1000);
            HttpResponse<String> page = http.send(tunnel("/page/" + n).build(), HttpResponse.BodyHandlers.ofString());
            check(page.statusCode() == 200 && page.body().equals("hello /page/" + n),
                    "page answered " + page.statusCode() + ": " + abbreviate(page.body()));
        }

        void download() throws Exception {
            HttpResponse<InputStream> download = http.send(tunnel("/bytes?n=" + STREAM_BYTES).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            long count;
            try (InputStream in = download.body()) {
                count = in.transferTo(java.io.OutputStream.nullOutputStream());
            }
            check(download.statusCode() == 200 && count == STREAM_BYTES,
                    "download answered " + download.statusCode() + " with " + count + " bytes");
        }

        void upload() throws Exception {
            HttpResponse<String> upload = http.send(tunnel("/upload")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(UPLOAD)).build(), HttpResponse.BodyHandlers.ofString());
            check(upload.statusCode() == 200 && upload.body().equals("received:" + STREAM_BYTES),
                    "upload answered " + upload.statusCode() + ": " + abbreviate(upload.body()));
        }

        /** Opens a WebSocket, echoes five texts 200 ms apart and one 64 KiB binary, closes with 1000. */
        void webSocket() throws Exception {
            WholeMessages received = new WholeMessages();
            WebSocket socket = http.newWebSocketBuilder().header("Cookie", cookie).connectTimeout(Duration.ofSeconds(10))
                    .buildAsync(URI.create(proxy.base().replace("http:", "ws:") + "/__ide/" + WORKSPACE + "/ws/"
                            + user), received).get(20, TimeUnit.SECONDS);
            try {
                for (int i = 0; i < 5; i++) {
                    socket.sendText("m" + i, true).get(10, TimeUnit.SECONDS);
                    Object echo = received.next(Duration.ofSeconds(10));
                    check(("echo:m" + i).equals(echo), "echo " + i + " was " + echo);
                    Thread.sleep(200);
                }
                byte[] binary = new byte[64 * 1024];
                random.nextBytes(binary);
                socket.sendBinary(ByteBuffer.wrap(binary), true).get(10, TimeUnit.SECONDS);
                Object echo = received.next(Duration.ofSeconds(10));
                check(echo instanceof byte[] b && Arrays.equals(b, binary), "binary echo was " + echo);
                socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
                Integer closed = received.closed().completeOnTimeout(null, 10, TimeUnit.SECONDS).get();
                check(Integer.valueOf(WebSocket.NORMAL_CLOSURE).equals(closed), "the close was answered with " + closed);
            } finally {
                socket.abort();
            }
        }

        HttpRequest.Builder tunnel(String path) {
            return get("/__ide/" + WORKSPACE + path).header("Cookie", cookie);
        }
    }

    // ------------------------------------------------------------------ bookkeeping

    private void succeeded(String kind) {
        succeeded.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }

    /**
     * Counts a failure as expected or not; returns whether the worker's session was revoked since
     * it was minted (then it must bootstrap again). Expected: the operation overlapped a restart of
     * the upstream (or began within 5 s of its end), or the user's sessions were revoked at or after
     * its mint (session starts are kept to the second, so one minted in the same second counts).
     */
    private boolean failed(String kind, long began, Worker worker, Exception e) {
        long now = System.nanoTime();
        boolean restart = restarts.stream().anyMatch(r -> r[0] <= now && began - TOLERANCE_NANOS <= r[1]);
        boolean revoked = worker != null && worker.revokedAt >= worker.mintedAt - 1000;
        if (restart || revoked) {
            tolerated.incrementAndGet();
            toleratedBy.computeIfAbsent(kind + (revoked ? " after revocation" : " at restart"), k -> new AtomicLong())
                    .incrementAndGet();
        } else {
            unexpected(kind, e);
        }
        return revoked;
    }

    private void unexpected(String kind, Exception e) {
        unexpected.incrementAndGet();
        if (unexpectedExamples.size() < 20) {
            unexpectedExamples.add(Instant.now() + " " + kind + ": " + e);
        }
    }

    private HttpRequest.Builder get(String path) {
        return HttpRequest.newBuilder(URI.create(proxy.base() + path)).timeout(Duration.ofSeconds(30));
    }

    private HttpRequest post(String path, String bearer) {
        return get(path).header("Authorization", "Bearer " + bearer).POST(HttpRequest.BodyPublishers.noBody()).build();
    }

    private static String portalBearer(String user, boolean admin) {
        return JWT.create().withSubject(user).withArrayClaim("workspaces", new String[] {WORKSPACE})
                .withClaim("ide-proxy-admin", admin).withExpiresAt(Instant.now().plusSeconds(60))
                .sign(Algorithm.HMAC256(PORTAL_SECRET));
    }

    private static void check(boolean condition, String message) throws IOException {
        if (!condition) {
            throw new IOException(message);
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sleeps until {@code deadline} (nanoTime); false when interrupted. */
    private static boolean sleepUntil(long deadline) {
        try {
            for (long left; (left = deadline - System.nanoTime()) > 0; ) {
                TimeUnit.NANOSECONDS.sleep(left);
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static Thread daemon(Runnable body, String name) {
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * {@code Soak <duration> <war> [results file [proxy log file]]}: duration as {@code 30m}, {@code 90s}, {@code 1h};
     * the proxy's JVM options from {@code -Dsoak.java-options} (default {@link #DEFAULT_JAVA_OPTIONS}).
     * Exits 0 when the verdict is PASS, 1 when FAIL.
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Soak <duration: 30m, 90s, 1h> <ide-proxy.war> [results file [proxy log file]]");
            System.exit(2);
        }
        String options = System.getProperty("soak.java-options", "").trim();
        Soak soak = new Soak(parseDuration(args[0]), Path.of(args[1]),
                options.isEmpty() ? DEFAULT_JAVA_OPTIONS : List.of(options.split("\\s+")), System.out);
        if (args.length > 3) {
            soak.proxyLog(Path.of(args[3]));
        }
        Result result = soak.run();
        System.out.println();
        System.out.print(result.report());
        if (args.length > 2) {
            Files.writeString(Path.of(args[2]), result.report(), StandardCharsets.UTF_8);
        }
        System.exit(result.passed() ? 0 : 1);
    }

    static Duration parseDuration(String text) {
        Matcher m = Pattern.compile("(\\d+)(s|m|h)").matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("duration like 30m, 90s or 1h expected, not '" + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }
}

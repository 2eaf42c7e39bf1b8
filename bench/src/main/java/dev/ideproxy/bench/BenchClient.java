package dev.ideproxy.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/**
 * The load client of the scenarios wrk does not cover. Each prints {@code metric value} lines.
 * <pre>
 * stream-down BASE COOKIE BYTES [PROBE]   GET BASE/bytes?n=BYTES, MB/s; live heap sampled at 1/4, 1/2, 3/4
 * stream-up   BASE COOKIE BYTES [PROBE]   POST BYTES to BASE/count, MB/s; same sampling
 * ws-echo     WSURL COOKIE COUNT SIZE     round trips of SIZE-byte binary messages, p50/p99 in microseconds
 * ws-down     WSURL COOKIE MESSAGES       MESSAGES binary messages of 1 MiB from the upstream, MB/s
 * ws-up       WSURL COOKIE MESSAGES       MESSAGES binary messages of 1 MiB to the upstream, MB/s
 * ws-idle     WSURL COOKIE SESSIONS HOLD_SECONDS [PROBE|-] [PIDS]
 *             opens SESSIONS sessions, holds them, then checks each answers an echo; heap (PROBE)
 *             and resident memory (comma-separated PIDS) per session
 * bootstrap   ORIGIN WORKSPACE SECONDS WORKERS
 *             mint + bootstrap loops through the token endpoints, rates and latencies ({@link BootstrapLoad})
 * </pre>
 * BASE is the HTTP base under which the upstream's paths are found, COOKIE the Cookie header value
 * ({@code -} for none), PROBE the heap probe of {@link ProxyLauncher} (e.g. http://127.0.0.1:9100).
 * MB is 10^6 bytes.
 */
public final class BenchClient {
    static final int MIB = 1 << 20;

    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    private static void run(String[] args) throws Exception {
        String mode = args[0];
        String cookie = args[2].equals("-") ? null : args[2];
        switch (mode) {
            case "stream-down" -> streamDown(args[1], cookie, Long.parseLong(args[3]), probe(args, 4));
            case "stream-up" -> streamUp(args[1], cookie, Long.parseLong(args[3]), probe(args, 4));
            case "ws-echo" -> wsEcho(args[1], cookie, Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            case "ws-down" -> wsDown(args[1], cookie, Integer.parseInt(args[3]));
            case "ws-up" -> wsUp(args[1], cookie, Integer.parseInt(args[3]));
            case "ws-idle" -> wsIdle(args[1], cookie, Integer.parseInt(args[3]), Integer.parseInt(args[4]),
                    probe(args, 5), args.length > 6 ? args[6] : "");
            case "bootstrap" -> BootstrapLoad.run(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]));
            default -> throw new IllegalArgumentException(mode);
        }
    }

    private static Probe probe(String[] args, int index) {
        return args.length > index && !args[index].equals("-") ? new Probe(args[index]) : null;
    }

    static void out(String metric, Object value) {
        System.out.println(metric + " " + value);
    }

    // ------------------------------------------------------------------ HTTP streaming (raw socket)

    static void streamDown(String base, String cookie, long bytes, Probe probe) throws Exception {
        URI uri = URI.create(base + "/bytes?n=" + bytes);
        if (probe != null) {
            probe.mark();
        }
        long start = System.nanoTime();
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(requestHead("GET", uri, cookie, -1).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            Head head = readHead(in);
            if (head.status != 200) {
                throw new IOException("download answered " + head.status);
            }
            byte[] buffer = new byte[256 * 1024];
            long body = head.leftover;
            int samples = 0;
            for (int n; (n = in.read(buffer)) >= 0; ) {
                body += n;
                if (probe != null && samples < 3 && body >= (samples + 1) * (bytes / 4)) {
                    probe.sample();
                    samples++;
                }
            }
            long nanos = System.nanoTime() - start;
            if (body < bytes) {
                throw new IOException("download ended after " + body + " of " + bytes + " bytes");
            }
            out("mbps", fmt(bytes / 1e6 / (nanos / 1e9)));
        }
        if (probe != null) {
            probe.report();
        }
    }

    static void streamUp(String base, String cookie, long bytes, Probe probe) throws Exception {
        URI uri = URI.create(base + "/count");
        if (probe != null) {
            probe.mark();
        }
        byte[] chunk = new byte[64 * 1024];
        Arrays.fill(chunk, (byte) 'u');
        long start = System.nanoTime();
        try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
            OutputStream out = socket.getOutputStream();
            out.write(requestHead("POST", uri, cookie, bytes).getBytes(StandardCharsets.US_ASCII));
            long sent = 0;
            int samples = 0;
            while (sent < bytes) {
                int n = (int) Math.min(chunk.length, bytes - sent);
                out.write(chunk, 0, n);
                sent += n;
                if (probe != null && samples < 3 && sent >= (samples + 1) * (bytes / 4)) {
                    probe.sample();
                    samples++;
                }
            }
            out.flush();
            InputStream in = socket.getInputStream();
            Head head = readHead(in);
            String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            long nanos = System.nanoTime() - start;
            String counted = (head.leftoverText + answer).trim();
            if (head.status != 200 || !counted.equals(Long.toString(bytes))) {
                throw new IOException("upload answered " + head.status + ": " + counted);
            }
            out("mbps", fmt(bytes / 1e6 / (nanos / 1e9)));
        }
        if (probe != null) {
            probe.report();
        }
    }

    private static String requestHead(String method, URI uri, String cookie, long contentLength) {
        StringBuilder b = new StringBuilder();
        b.append(method).append(' ').append(uri.getRawPath());
        if (uri.getRawQuery() != null) {
            b.append('?').append(uri.getRawQuery());
        }
        b.append(" HTTP/1.1\r\nHost: ").append(uri.getHost()).append(':').append(uri.getPort()).append("\r\n");
        if (cookie != null) {
            b.append("Cookie: ").append(cookie).append("\r\n");
        }
        if (contentLength >= 0) {
            b.append("Content-Type: application/octet-stream\r\nContent-Length: ").append(contentLength).append("\r\n");
        }
        return b.append("Connection: close\r\n\r\n").toString();
    }

    private record Head(int status, long leftover, String leftoverText) {
    }

    /** Reads up to the end of the response head; the body bytes read with it are counted in leftover. */
    private static Head readHead(InputStream in) throws IOException {
        byte[] buffer = new byte[16 * 1024];
        int filled = 0;
        while (true) {
            int n = in.read(buffer, filled, buffer.length - filled);
            if (n < 0) {
                throw new IOException("connection closed in the response head");
            }
            filled += n;
            String text = new String(buffer, 0, filled, StandardCharsets.ISO_8859_1);
            int end = text.indexOf("\r\n\r\n");
            if (end >= 0) {
                int status = Integer.parseInt(text.substring(9, 12));
                String head = text.substring(0, end).toLowerCase(Locale.ROOT);
                if (head.contains("transfer-encoding: chunked")) {
                    System.err.println("note: chunked response; the byte count includes chunk framing");
                }
                return new Head(status, filled - end - 4, text.substring(end + 4));
            }
            if (filled == buffer.length) {
                throw new IOException("response head too large");
            }
        }
    }

    // ------------------------------------------------------------------ WebSocket

    static WebSocketClient wsClient() throws Exception {
        org.eclipse.jetty.client.HttpClient http = new org.eclipse.jetty.client.HttpClient();
        http.setMaxConnectionsPerDestination(20_000);
        http.setMaxRequestsQueuedPerDestination(20_000);
        http.setConnectTimeout(30_000);
        WebSocketClient client = new WebSocketClient(http);
        client.setIdleTimeout(Duration.ofHours(1));
        client.setMaxBinaryMessageSize(64L * MIB);
        client.setMaxTextMessageSize(64L * MIB);
        // Read in 64 KiB pieces (Jetty's default is 4 KiB), so that the client is not what limits bulk transfers.
        client.setInputBufferSize(64 * 1024);
        client.setConnectTimeout(30_000);
        client.start();
        return client;
    }

    static Session connect(WebSocketClient client, String url, String cookie, Object listener) throws Exception {
        ClientUpgradeRequest request = new ClientUpgradeRequest();
        if (cookie != null) {
            request.setHeader("Cookie", cookie);
        }
        return client.connect(listener, URI.create(url), request).get(30, TimeUnit.SECONDS);
    }

    /** Receives for the throughput and latency scenarios. Public: Jetty binds it through method handles. */
    public static final class Receiver implements Session.Listener.AutoDemanding {
        final BlockingQueue<String> texts = new ArrayBlockingQueue<>(16);
        final BlockingQueue<Long> echoes = new ArrayBlockingQueue<>(16);
        final AtomicLong binaryBytes = new AtomicLong();
        final AtomicLong parts = new AtomicLong();

        @Override
        public void onWebSocketPartialBinary(ByteBuffer payload, boolean last, Callback callback) {
            parts.incrementAndGet();
            long n = binaryBytes.addAndGet(payload.remaining());
            callback.succeed();
            if (last) {
                echoes.offer(n);
            }
        }

        @Override
        public void onWebSocketText(String message) {
            texts.offer(message);
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            texts.offer("error " + cause);
        }
    }

    static void wsEcho(String url, String cookie, int count, int size) throws Exception {
        WebSocketClient client = wsClient();
        Receiver receiver = new Receiver();
        Session session = connect(client, url, cookie, receiver);
        byte[] payload = new byte[size];
        Arrays.fill(payload, (byte) 'e');
        int warmup = Math.max(1000, count / 5);
        long[] rtt = new long[count];
        for (int i = -warmup; i < count; i++) {
            receiver.binaryBytes.set(0);
            long start = System.nanoTime();
            session.sendBinary(ByteBuffer.wrap(payload), Callback.NOOP);
            Long got = receiver.echoes.poll(10, TimeUnit.SECONDS);
            long nanos = System.nanoTime() - start;
            if (got == null || got != size) {
                throw new IOException("echo " + i + " did not come back whole: " + got);
            }
            if (i >= 0) {
                rtt[i] = nanos;
            }
        }
        Arrays.sort(rtt);
        out("p50_us", fmt(rtt[count / 2] / 1e3));
        out("p99_us", fmt(rtt[(int) (count * 0.99)] / 1e3));
        session.close();
        client.stop();
    }

    static void wsDown(String url, String cookie, int messages) throws Exception {
        WebSocketClient client = wsClient();
        Receiver receiver = new Receiver();
        Session session = connect(client, url, cookie, receiver);
        runDown(session, receiver, Math.max(8, messages / 8)); // warm-up
        long nanos = runDown(session, receiver, messages);
        out("mbps", fmt((long) messages * MIB / 1e6 / (nanos / 1e9)));
        out("parts_per_message", fmt(receiver.parts.get() / (double) messages));
        session.close();
        client.stop();
    }

    private static long runDown(Session session, Receiver receiver, int messages) throws Exception {
        receiver.binaryBytes.set(0);
        receiver.parts.set(0);
        receiver.echoes.clear();
        long start = System.nanoTime();
        session.sendText("down " + messages, Callback.NOOP);
        String end = receiver.texts.poll(120, TimeUnit.SECONDS);
        long nanos = System.nanoTime() - start;
        if (!"end".equals(end) || receiver.binaryBytes.get() != (long) messages * MIB) {
            throw new IOException("download over WebSocket: " + end + " after " + receiver.binaryBytes.get() + " bytes");
        }
        return nanos;
    }

    static void wsUp(String url, String cookie, int messages) throws Exception {
        WebSocketClient client = wsClient();
        Receiver receiver = new Receiver();
        Session session = connect(client, url, cookie, receiver);
        ByteBuffer message = ByteBuffer.allocateDirect(MIB);
        runUp(session, receiver, message, Math.max(8, messages / 8)); // warm-up
        long nanos = runUp(session, receiver, message, messages);
        out("mbps", fmt((long) messages * MIB / 1e6 / (nanos / 1e9)));
        session.close();
        client.stop();
    }

    private static long runUp(Session session, Receiver receiver, ByteBuffer message, int messages) throws Exception {
        Sent sent = new Sent();
        session.sendText("sink", sent.reset());
        sent.await();
        long start = System.nanoTime();
        for (int i = 0; i < messages; i++) {
            session.sendBinary(message.slice(), sent.reset());
            sent.await();
        }
        session.sendText("fin", Callback.NOOP);
        String got = receiver.texts.poll(120, TimeUnit.SECONDS);
        long nanos = System.nanoTime() - start;
        if (!("got " + (long) messages * MIB).equals(got)) {
            throw new IOException("upload over WebSocket: " + got);
        }
        return nanos;
    }

    /** A reusable completion of one send. */
    static final class Sent implements Callback {
        private CompletableFuture<Void> done;

        Sent reset() {
            done = new CompletableFuture<>();
            return this;
        }

        void await() throws Exception {
            done.get(60, TimeUnit.SECONDS);
        }

        @Override
        public void succeed() {
            done.complete(null);
        }

        @Override
        public void fail(Throwable x) {
            done.completeExceptionally(x);
        }
    }

    /** One of many idle sessions. Public: Jetty binds it through method handles. */
    public static final class Idle implements Session.Listener.AutoDemanding {
        static final AtomicInteger closed = new AtomicInteger();
        static final AtomicInteger answered = new AtomicInteger();
        volatile Session session;
        volatile boolean gone;

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
            answered.incrementAndGet();
            callback.succeed();
        }

        @Override
        public void onWebSocketClose(int statusCode, String reason) {
            gone = true;
            closed.incrementAndGet();
        }

        @Override
        public void onWebSocketError(Throwable cause) {
            gone = true;
        }
    }

    static void wsIdle(String url, String cookie, int sessions, int holdSeconds, Probe probe, String pids)
            throws Exception {
        WebSocketClient client = wsClient();
        if (probe != null) {
            probe.mark();
        }
        long rssBefore = rss(pids);
        List<Idle> idles = new ArrayList<>(sessions);
        Semaphore inFlight = new Semaphore(64);
        AtomicInteger failed = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(sessions);
        long start = System.nanoTime();
        for (int i = 0; i < sessions; i++) {
            inFlight.acquire();
            Idle idle = new Idle();
            idles.add(idle);
            ClientUpgradeRequest r = new ClientUpgradeRequest();
            if (cookie != null) {
                r.setHeader("Cookie", cookie);
            }
            client.connect(idle, URI.create(url), r).whenComplete((s, x) -> {
                if (x != null) {
                    if (failed.getAndIncrement() < 3) {
                        System.err.println("ws-idle: connect failed: " + x);
                    }
                }
                inFlight.release();
                done.countDown();
            });
        }
        done.await(10, TimeUnit.MINUTES);
        long openMillis = (System.nanoTime() - start) / 1_000_000;
        out("opened", sessions - failed.get());
        out("open_seconds", fmt(openMillis / 1e3));
        Thread.sleep(holdSeconds * 1000L);
        // Still alive? Every session must answer one echo.
        Idle.answered.set(0);
        byte[] ping = "alive?".getBytes(StandardCharsets.US_ASCII);
        int asked = 0;
        for (Idle idle : idles) {
            Session s = idle.session;
            if (s != null && s.isOpen() && !idle.gone) {
                s.sendBinary(ByteBuffer.wrap(ping), Callback.NOOP);
                asked++;
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Idle.answered.get() < asked && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        out("alive", Idle.answered.get());
        if (probe != null) {
            long[] held = probe.sampleHeld();
            out("heap_per_session_kib", fmt((held[1] - held[0]) / 1024.0 / sessions));
        }
        long rssAfter = rss(pids);
        if (rssBefore > 0) {
            out("rss_per_session_kib", fmt((rssAfter - rssBefore) / 1024.0 / sessions));
        }
        for (Idle idle : idles) {
            Session s = idle.session;
            if (s != null && s.isOpen()) {
                s.close(1000, "done", Callback.NOOP);
            }
        }
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Idle.closed.get() < sessions - failed.get() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        client.stop();
    }

    /** Resident set size in bytes, summed over the comma-separated pids; 0 when none. */
    static long rss(String pids) throws IOException {
        long total = 0;
        for (String pid : pids.split(",")) {
            if (pid.isBlank()) {
                continue;
            }
            for (String line : Files.readAllLines(Path.of("/proc", pid.trim(), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    total += Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        }
        return total;
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    /** The heap probe of {@link ProxyLauncher}. */
    static final class Probe {
        private final HttpClient http = HttpClient.newHttpClient();
        private final String base;

        Probe(String base) {
            this.base = base;
        }

        String get(String path) throws IOException, InterruptedException {
            return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofString()).body().trim();
        }

        void mark() throws IOException, InterruptedException {
            get("/mark");
        }

        void sample() throws IOException, InterruptedException {
            get("/sample");
        }

        /** {baseline, live now}. */
        long[] sampleHeld() throws IOException, InterruptedException {
            long live = Long.parseLong(get("/sample"));
            long baseline = Long.parseLong(get("/peak").split(" ")[0]);
            return new long[] {baseline, live};
        }

        /** Prints the growth of the live heap (forced samples) and of the heap after any collection. */
        void report() throws IOException, InterruptedException {
            String[] p = get("/peak").split(" ");
            long baseline = Long.parseLong(p[0]);
            out("heap_growth_mib", fmt((Long.parseLong(p[1]) - baseline) / (double) MIB));
            out("heap_after_gc_growth_mib", fmt((Long.parseLong(p[2]) - baseline) / (double) MIB));
        }
    }

    private BenchClient() {
    }
}

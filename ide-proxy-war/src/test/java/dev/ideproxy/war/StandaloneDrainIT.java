package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * SIGTERM to {@code java -jar ide-proxy.war} drains before the process exits: readiness turns 503,
 * a live WebSocket is closed with 1012, a download in flight runs to its last byte, then the process
 * exits by itself, well inside {@code shutdown.drain-timeout}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StandaloneDrainIT {
    static final String SECRET = "standalone-drain-secret-0123456789abcdef";
    static final String PORTAL_SECRET = "standalone-drain-portal-0123456789abcdef";
    /** The download: 48 MiB, 1 MiB every 50 ms (about 2.5 s). */
    static final int CHUNKS = 48;

    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();
    final CountDownLatch downloadStarted = new CountDownLatch(1);
    HttpServer upstream;
    Process process;

    @AfterEach
    void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        if (upstream != null) {
            upstream.stop(0);
        }
    }

    @Test
    void sigtermDrainsThenExits() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        upstream.setExecutor(Executors.newCachedThreadPool());
        upstream.createContext("/slow", exchange -> {
            exchange.sendResponseHeaders(200, (long) CHUNKS << 20);
            byte[] mib = new byte[1 << 20];
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < CHUNKS; i++) {
                    out.write(mib);
                    out.flush();
                    downloadStarted.countDown();
                    Thread.sleep(50);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        upstream.start();
        try (TestWebSocketUpstream sockets = new TestWebSocketUpstream()) {
            int port = Distribution.freePort();
            process = StandaloneWarIT.launch(Map.of(
                    "IDE_PROXY_TOKEN_SECRET", SECRET,
                    "IDE_PROXY_AUTH_JWT_HS256_SECRET", PORTAL_SECRET,
                    "IDE_PROXY_TARGETS", "h=http://127.0.0.1:" + upstream.getAddress().getPort() + ",w=" + sockets.uri(),
                    "IDE_PROXY_STANDALONE_PORT", Integer.toString(port)));
            ProcessLog log = new ProcessLog(process, "standalone");
            List<String> output = log.lines();
            String base = "http://127.0.0.1:" + port;
            log.awaitLine("ide-proxy listening on " + base);

            String onH = session(base, "h");
            String onW = session(base, "w");
            CompletableFuture<Integer> closeCode = new CompletableFuture<>();
            WebSocket socket = http.newWebSocketBuilder().header("Cookie", onW)
                    .buildAsync(URI.create("ws://127.0.0.1:" + port + "/__ide/w/terminal"), new WebSocket.Listener() {
                        @Override
                        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                            closeCode.complete(statusCode);
                            return null;
                        }
                    }).get(10, TimeUnit.SECONDS);
            CompletableFuture<Long> download = CompletableFuture.supplyAsync(() -> {
                try {
                    HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(URI.create(base + "/__ide/h/slow"))
                            .header("Cookie", onH).build(), HttpResponse.BodyHandlers.ofInputStream());
                    long n = 0;
                    try (InputStream in = response.body()) {
                        byte[] buffer = new byte[64 * 1024];
                        for (int r = in.read(buffer); r >= 0; r = in.read(buffer)) {
                            n += r;
                        }
                    }
                    return n;
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertTrue(downloadStarted.await(10, TimeUnit.SECONDS), "the download started");

            Instant sigterm = Instant.now();
            process.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)

            assertEquals(1012, closeCode.get(10, TimeUnit.SECONDS), "the WebSocket is told the service restarts");
            HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(base + "/api/health/ready")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, ready.statusCode(), "not ready while draining: " + ready.body());
            assertEquals((long) CHUNKS << 20, download.get(60, TimeUnit.SECONDS), "every byte of the download");
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the process exits once drained");
            long millis = Duration.between(sigterm, Instant.now()).toMillis();
            System.out.printf("[standalone] SIGTERM to exit: %d ms (download in flight %d MiB)%n", millis, CHUNKS);
            assertTrue(millis < 20_000, "drained in " + millis + " ms");
            assertTrue(output.stream().anyMatch(l -> l.contains("closed 1 WebSocket session(s) with 1012")), String.join("\n", output));
            assertTrue(output.stream().anyMatch(l -> l.contains("drained: every HTTP exchange finished")), String.join("\n", output));
            assertTrue(output.stream().noneMatch(l -> l.contains("\tat ")), "no stack trace:\n" + String.join("\n", output));
            socket.abort();
        }
    }

    private String session(String base, String workspace) throws Exception {
        return WarPortal.session(http, URI.create(base + "/api/dev/" + workspace + "/ide-token"),
                WarPortal.bearer(PORTAL_SECRET, "alice", workspace));
    }
}

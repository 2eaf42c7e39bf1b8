package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.testing.Scrape;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The WAR's Prometheus endpoint in the real Tomcat 11 and Jetty 12 and with {@code java -jar}: off
 * unless configured, 401 without its bearer secret, 404 through a proxy when loopback-only, and
 * counters that move by exactly what the test did; the WAR refuses to start with an open endpoint.
 */
class MetricsWarIT {
    static final String SECRET = "metrics-war-test-secret-0123456789abcdef";
    static final String PORTAL_SECRET = "metrics-war-portal-secret-0123456789abcdef";
    static final String SCRAPE_SECRET = "metrics-war-scrape-secret-0123456789abcdef";

    @TempDir
    Path work;

    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @ParameterizedTest
    @EnumSource(value = Distribution.class, names = {"STANDALONE", "TOMCAT_11", "JETTY_12"})
    void theEndpointNeedsItsSecretAndCountsExactlyWhatTheTestDid(Distribution distribution) throws Exception {
        try (TestUpstream upstream = new TestUpstream();
             TestWebSocketUpstream sockets = new TestWebSocketUpstream();
             Distribution.Running container = distribution.start(StandaloneWarIT.WAR, "/ide", Map.of(
                     "ide-proxy.token.secret", SECRET,
                     "ide-proxy.auth.jwt.hs256-secret", PORTAL_SECRET,
                     "ide-proxy.targets", "w1=" + upstream.uri() + ",ws1=" + sockets.uri(),
                     "ide-proxy.metrics.prometheus.path", "/api/metrics",
                     "ide-proxy.metrics.prometheus.bearer-secret", SCRAPE_SECRET), work)) {
            HttpResponse<String> anonymous = get(container, "/api/metrics", Map.of());
            assertEquals(401, anonymous.statusCode());
            assertEquals("Bearer realm=\"ide-proxy metrics\"", anonymous.headers().firstValue("WWW-Authenticate").orElse(null));
            assertFalse(anonymous.body().contains("ide_proxy_"), anonymous.body());
            assertEquals(401, get(container, "/api/metrics", Map.of("Authorization", "Bearer " + SCRAPE_SECRET + "x"))
                    .statusCode());
            assertEquals(401, get(container, "/api/metrics", Map.of("Authorization", "Basic " + SCRAPE_SECRET))
                    .statusCode());

            Scrape before = scrape(container);
            assertTrue(before.has("jvm_memory_used_bytes") && before.has("jvm_gc_pause_seconds_count")
                    || before.has("jvm_memory_used_bytes") && before.has("jvm_threads_live_threads"), before.text());
            assertTrue(before.has("process_cpu_usage") || before.has("system_cpu_count"), before.text());

            String cookie = session(container, "w1");
            long toBrowser = 0;
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> page = get(container, "/__ide/w1/page" + i, Map.of("Cookie", cookie));
                assertEquals(200, page.statusCode(), page.body());
                toBrowser += page.body().getBytes(StandardCharsets.UTF_8).length;
            }
            List<String> echoes = webSocketEcho(container, session(container, "ws1"), "one", "two");
            assertEquals(List.of("echo:/socket:one", "echo:/socket:two"), echoes);

            // The relay's close is counted and its gauge lowered as it ends, a moment apart: wait for both.
            Scrape after = await(container, s -> s.delta(before, "ide_proxy_tunnel_requests_seconds_count") >= 4
                    && s.delta(before, "ide_proxy_websocket_relays_closed_total") >= 1
                    && s.value("ide_proxy_websocket_relays_live") == 0);
            String requests = "ide_proxy_tunnel_requests_seconds_count";
            assertEquals(3, after.delta(before, requests, "method", "GET", "status", "2xx", "outcome", "proxied"), after.text());
            assertEquals(1, after.delta(before, requests, "method", "GET", "status", "1xx", "outcome", "upgraded"));
            assertEquals(4, after.delta(before, requests));
            assertEquals(2, after.delta(before, "ide_proxy_mints_total", "outcome", "ok"));
            assertEquals(2, after.delta(before, "ide_proxy_bootstraps_total", "outcome", "ok"));
            assertEquals(2, after.delta(before, "ide_proxy_bootstraps_total"));
            assertEquals(toBrowser, after.delta(before, "ide_proxy_relayed_bytes_total", "protocol", "http",
                    "direction", "to_browser"));
            assertEquals(2, after.delta(before, "ide_proxy_websocket_messages_total", "direction", "to_upstream"));
            assertEquals(2, after.delta(before, "ide_proxy_websocket_messages_total", "direction", "to_browser"));
            assertEquals(6, after.delta(before, "ide_proxy_relayed_bytes_total", "protocol", "websocket",
                    "direction", "to_upstream"));
            assertEquals(1, after.delta(before, "ide_proxy_websocket_relays_opened_total"));
            assertEquals(1, after.delta(before, "ide_proxy_websocket_relays_closed_total", "code", "1000"));
            assertEquals(0, after.value("ide_proxy_websocket_relays_live"));
            assertTrue(after.samples().stream().filter(s -> s.name().startsWith("ide_proxy_"))
                    .noneMatch(s -> s.labels().containsKey("workspace") || s.labels().containsValue("w1")
                            || s.labels().containsValue("ws1") || s.labels().containsValue("alice")), after.text());
            assertEquals(0, after.delta(before, requests, "outcome", "refused"), "the scrapes are not tunnel requests");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Distribution.class, names = {"TOMCAT_11", "JETTY_12"})
    void loopbackOnlyAnswersNoRequestThatCameThroughAProxy(Distribution distribution) throws Exception {
        try (Distribution.Running container = distribution.start(StandaloneWarIT.WAR, "/ide", Map.of(
                "ide-proxy.token.secret", SECRET,
                "ide-proxy.auth.jwt.hs256-secret", PORTAL_SECRET,
                "ide-proxy.targets", "w1=http://127.0.0.1:1",
                "ide-proxy.metrics.prometheus.path", "/internal/metrics",
                "ide-proxy.metrics.prometheus.loopback-only", "true"), work)) {
            HttpResponse<String> direct = get(container, "/internal/metrics", Map.of());
            assertEquals(200, direct.statusCode(), direct.body());
            assertEquals("no-store", direct.headers().firstValue("Cache-Control").orElse(null));
            assertEquals("text/plain;version=0.0.4;charset=utf-8", contentType(direct));
            assertTrue(Scrape.parse(direct.body()).has("ide_proxy_mints_total"), direct.body());
            for (String header : new String[] {"X-Forwarded-For", "Forwarded", "X-Real-IP"}) {
                HttpResponse<String> proxied = get(container, "/internal/metrics",
                        Map.of(header, header.equals("Forwarded") ? "for=203.0.113.9" : "203.0.113.9"));
                assertEquals(404, proxied.statusCode(), header);
                assertFalse(proxied.body().contains("ide_proxy_"), proxied.body());
            }
            HttpResponse<String> post = http.send(HttpRequest.newBuilder(container.uri("/internal/metrics"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, post.statusCode());
            assertFalse(post.body().contains("Tomcat") || post.body().contains("Jetty"), post.body());
        }
    }

    @Test
    void anOpenEndpointStopsStartUpWithOneClearLine() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Distribution.java(), "-Xmx256m", "-jar",
                StandaloneWarIT.WAR.toAbsolutePath().toString()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("IDE_PROXY_"));
        pb.environment().putAll(Map.of(
                "IDE_PROXY_TOKEN_SECRET", SECRET,
                "IDE_PROXY_AUTH_JWT_HS256_SECRET", PORTAL_SECRET,
                "IDE_PROXY_TARGETS", "w1=http://127.0.0.1:1",
                "IDE_PROXY_METRICS_PROMETHEUS_PATH", "/api/metrics",
                "IDE_PROXY_STANDALONE_PORT", Integer.toString(Distribution.freePort())));
        Process process = pb.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the process should exit");
        assertNotEquals(0, process.exitValue());
        assertTrue(output.contains("ide-proxy cannot start: ide-proxy.metrics.prometheus.path is set but the metrics"
                + " would be open to anyone"), output);
        assertFalse(output.contains("\tat "), "no stack trace:\n" + output);
    }

    private HttpResponse<String> get(Distribution.Running container, String path, Map<String, String> headers)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(container.uri(path)).timeout(Duration.ofSeconds(10));
        headers.forEach(request::header);
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private Scrape scrape(Distribution.Running container) throws Exception {
        HttpResponse<String> response = get(container, "/api/metrics", Map.of("Authorization", "Bearer " + SCRAPE_SECRET));
        assertEquals(200, response.statusCode(), response.body());
        assertEquals("text/plain;version=0.0.4;charset=utf-8", contentType(response));
        return Scrape.parse(response.body());
    }

    /** The Content-Type without spaces, in lower case (Tomcat drops the spaces, Jetty keeps them). */
    private static String contentType(HttpResponse<String> response) {
        return response.headers().firstValue("Content-Type").orElse("").replace(" ", "").toLowerCase(java.util.Locale.ROOT);
    }

    /** Scrapes until {@code condition} holds: a request is counted when it completes on the server. */
    private Scrape await(Distribution.Running container, Predicate<Scrape> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        Scrape s = scrape(container);
        while (!condition.test(s) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            s = scrape(container);
        }
        return s;
    }

    /** Mint and bootstrap for {@code workspace} as alice; returns the session cookie's {@code name=value}. */
    private String session(Distribution.Running container, String workspace) throws Exception {
        return WarPortal.session(http, container.uri("/api/dev/" + workspace + "/ide-token"),
                WarPortal.bearer(PORTAL_SECRET, "alice", workspace));
    }

    /** Sends each text over a WebSocket to {@code /__ide/ws1/socket}, collects the echoes, closes with 1000. */
    private List<String> webSocketEcho(Distribution.Running container, String cookie, String... texts) throws Exception {
        WholeMessages received = new WholeMessages();
        WebSocket socket = http.newWebSocketBuilder().header("Cookie", cookie)
                .buildAsync(URI.create("ws://" + container.hostHeader() + "/ide/__ide/ws1/socket"), received)
                .get(10, TimeUnit.SECONDS);
        List<String> echoes = new java.util.ArrayList<>();
        for (String text : texts) {
            socket.sendText(text, true).get(10, TimeUnit.SECONDS);
            echoes.add(received.nextText(java.time.Duration.ofSeconds(10)));
        }
        socket.sendClose(1000, "done").get(10, TimeUnit.SECONDS);
        return echoes;
    }
}

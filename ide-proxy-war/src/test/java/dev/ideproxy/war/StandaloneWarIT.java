package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The built WAR run as a new user would: {@code java -jar ide-proxy.war}, configured through
 * environment variables, serving the whole flow against a real upstream.
 */
class StandaloneWarIT {
    static final Path WAR = Path.of(System.getProperty("ide-proxy.war", "target/ide-proxy.war"));
    static final String SECRET = "standalone-test-secret-0123456789abcdef";
    static final String PORTAL_SECRET = "standalone-portal-secret-0123456789abcdef";

    HttpServer upstream;
    Process process;
    ProcessLog log;
    List<String> output = List.of();
    final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    @BeforeEach
    void startUpstream() throws IOException {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        upstream.createContext("/", exchange -> {
            byte[] body = ("workspace says hi to " + exchange.getRequestHeaders().getFirst("Host"))
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        upstream.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        upstream.stop(0);
    }

    @Test
    void runsTheFlowConfiguredFromTheEnvironment() throws Exception {
        int port = freePort();
        start(Map.of(
                "IDE_PROXY_TOKEN_SECRET", SECRET,
                "IDE_PROXY_AUTH_JWT_HS256_SECRET", PORTAL_SECRET,
                "IDE_PROXY_TARGETS", "w1=http://127.0.0.1:" + upstream.getAddress().getPort(),
                "IDE_PROXY_STANDALONE_PORT", Integer.toString(port)));
        awaitLine("ide-proxy listening on http://127.0.0.1:" + port);
        String base = "http://127.0.0.1:" + port;
        String bearer = com.auth0.jwt.JWT.create().withSubject("alice").withArrayClaim("workspaces", new String[] {"w1"})
                .withExpiresAt(java.time.Instant.now().plusSeconds(60))
                .sign(com.auth0.jwt.algorithms.Algorithm.HMAC256(PORTAL_SECRET));
        HttpResponse<String> minted = http.send(HttpRequest.newBuilder(URI.create(base + "/api/dev/w1/ide-token"))
                .header("Authorization", "Bearer " + bearer).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, minted.statusCode(), minted.body());
        Matcher m = Pattern.compile("\"bootstrapUrl\":\"([^\"]+)\"").matcher(minted.body());
        assertTrue(m.find(), minted.body());
        String page = openTunnel(base, m.group(1), "w1");
        assertEquals("workspace says hi to 127.0.0.1:" + port, page);
        assertTrue(output.stream().noneMatch(l -> l.contains(SECRET) || l.contains(PORTAL_SECRET)), "secrets in the log");
    }

    @Test
    void demoModePrintsALinkThatOpensTheWorkspace() throws Exception {
        int port = freePort();
        start(Map.of(
                "IDE_PROXY_TARGETS", "demo=http://127.0.0.1:" + upstream.getAddress().getPort(),
                "IDE_PROXY_STANDALONE_PORT", Integer.toString(port)));
        awaitLine("(demo mode)");
        String link = output.stream().map(String::trim).filter(l -> l.startsWith("http://") && l.contains("?token="))
                .findFirst().orElse(null);
        assertNotNull(link, "no link printed: " + output);
        String base = "http://127.0.0.1:" + port;
        assertTrue(link.startsWith(base + "/api/dev/demo/ide?token="), link);
        assertEquals("workspace says hi to 127.0.0.1:" + port, openTunnel(base, link.substring(base.length()), "demo"));
    }

    @Test
    void aWeakSecretStopsStartUpWithOneClearMessage() throws Exception {
        start(Map.of(
                "IDE_PROXY_TOKEN_SECRET", "short",
                "IDE_PROXY_TARGETS", "w1=http://127.0.0.1:1",
                "IDE_PROXY_STANDALONE_PORT", Integer.toString(freePort())));
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "process should exit");
        assertNotEquals(0, process.exitValue());
        Thread.sleep(200);
        assertTrue(output.stream().anyMatch(l -> l.contains("ide-proxy.token.secret is too weak")), String.join("\n", output));
        assertTrue(output.stream().noneMatch(l -> l.contains("\tat ")), "no stack trace expected:\n" + String.join("\n", output));
    }

    @Test
    void noResponseNamesTheServerOrItsVersion() throws Exception {
        int port = freePort();
        start(Map.of(
                "IDE_PROXY_TOKEN_SECRET", SECRET,
                "IDE_PROXY_AUTH_JWT_HS256_SECRET", PORTAL_SECRET,
                "IDE_PROXY_TARGETS", "w1=http://127.0.0.1:" + upstream.getAddress().getPort(),
                "IDE_PROXY_STANDALONE_PORT", Integer.toString(port)));
        awaitLine("ide-proxy listening on http://127.0.0.1:" + port);
        String base = "http://127.0.0.1:" + port;
        List<HttpRequest> requests = List.of(
                HttpRequest.newBuilder(URI.create(base + "/")).build(),
                HttpRequest.newBuilder(URI.create(base + "/no/such/page")).build(),
                HttpRequest.newBuilder(URI.create(base + "/api/dev/w1/ide?token=nonsense")).build(),
                HttpRequest.newBuilder(URI.create(base + "/api/dev/w1/ide-token")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpRequest.newBuilder(URI.create(base + "/__ide/w1/")).build());
        for (HttpRequest request : requests) {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            String described = request.method() + " " + request.uri() + " -> " + response.statusCode() + " " + response.headers().map();
            assertTrue(response.headers().firstValue("Server").isEmpty(), described);
            assertTrue(response.headers().firstValue("X-Powered-By").isEmpty(), described);
            response.headers().map().forEach((name, values) -> values.forEach(value ->
                    assertFalse(VERSION.matcher(value).find() || value.toLowerCase(java.util.Locale.ROOT).contains("jetty"),
                            "header " + name + " discloses the server: " + described)));
            assertFalse(response.body().toLowerCase(java.util.Locale.ROOT).contains("jetty"), described + "\n" + response.body());
        }
        // Refused by Jetty itself, before the web application: its own error page, as bare as the rest.
        for (String malformed : List.of("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")) {
            dev.ideproxy.testing.RawHttp.Response raw = dev.ideproxy.testing.RawHttp.send("127.0.0.1", port, malformed);
            assertEquals(400, raw.status(), raw.raw());
            assertEquals(null, raw.header("Server"), raw.raw());
            assertFalse(raw.raw().toLowerCase(java.util.Locale.ROOT).contains("jetty"), raw.raw());
            assertFalse(VERSION.matcher(raw.raw()).find(), raw.raw());
        }
    }

    /** A dotted version number such as 12.1.14. */
    static final Pattern VERSION = Pattern.compile("\\d+\\.\\d+\\.\\d+");

    private String openTunnel(String base, String bootstrapPath, String workspace) throws Exception {
        HttpResponse<String> boot = http.send(HttpRequest.newBuilder(URI.create(base + bootstrapPath)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(303, boot.statusCode());
        assertEquals("/__ide/" + workspace + "/", boot.headers().firstValue("Location").orElse(null));
        String cookie = boot.headers().firstValue("Set-Cookie").orElseThrow();
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base + "/__ide/" + workspace + "/"))
                .header("Cookie", cookie.substring(0, cookie.indexOf(';'))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, page.statusCode(), page.body());
        return page.body();
    }

    /**
     * {@code java -jar ide-proxy.war} (256 MiB of heap) with this JVM's environment less its
     * {@code IDE_PROXY_*} variables, plus {@code env}; output and errors in one stream.
     */
    static Process launch(Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(Distribution.java(), "-Xmx256m", "-jar", WAR.toAbsolutePath().toString())
                .redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("IDE_PROXY_"));
        pb.environment().putAll(env);
        return pb.start();
    }

    private void start(Map<String, String> env) throws IOException {
        process = launch(env);
        log = new ProcessLog(process, "standalone");
        output = log.lines();
    }

    private void awaitLine(String fragment) throws InterruptedException {
        log.awaitLine(fragment);
    }

    private static int freePort() throws IOException {
        return Distribution.freePort();
    }
}

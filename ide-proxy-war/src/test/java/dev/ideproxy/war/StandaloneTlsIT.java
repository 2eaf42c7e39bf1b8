package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Http2Browser;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.TestCertificate;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.http.HttpVersion;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar ide-proxy.war} serving HTTPS itself ({@code ide-proxy.standalone.tls.*}): the
 * owner's flow over HTTP/2 with a client that checks the certificate, the IDE's WebSocket as a stream
 * of the HTTP/2 connection (RFC 8441, as Chromium opens it), a {@code Secure} cookie, and a wrong key
 * store or password refused with one line and exit status 2, the password never printed.
 */
class StandaloneTlsIT {
    static final String SECRET = "standalone-tls-secret-0123456789abcdef";

    HttpServer upstream;
    final List<String> seen = new CopyOnWriteArrayList<>();
    TestWebSocketUpstream sockets;
    Process process;
    List<String> output = List.of();

    @BeforeEach
    void startUpstreams() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        upstream.createContext("/", exchange -> {
            seen.add(exchange.getRequestHeaders().getFirst("Host") + " "
                    + exchange.getRequestHeaders().getFirst("X-Forwarded-Proto"));
            byte[] body = "workspace page".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        upstream.start();
        sockets = new TestWebSocketUpstream();
    }

    @AfterEach
    void stop() throws Exception {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        upstream.stop(0);
        sockets.close();
    }

    @Test
    void servesTheFlowOverHttp2WithTlsAndTheIdeWebSocketAsAStream() throws Exception {
        int port = Distribution.freePort();
        start(Map.of(
                "IDE_PROXY_TOKEN_SECRET", SECRET,
                "IDE_PROXY_AUTH_JWT_HS256_SECRET", Portal.BEARER_SECRET,
                "IDE_PROXY_TARGETS", "w1=http://127.0.0.1:" + upstream.getAddress().getPort()
                        + ",w2=" + sockets.uri(),
                "IDE_PROXY_STANDALONE_PORT", Integer.toString(port),
                "IDE_PROXY_STANDALONE_TLS_KEYSTORE", TestCertificate.keyStore().toString(),
                "IDE_PROXY_STANDALONE_TLS_KEYSTORE_PASSWORD", TestCertificate.PASSWORD));
        awaitLine("ide-proxy listening on https://127.0.0.1:" + port + " (HTTP/2 and HTTP/1.1)");
        URI base = URI.create("https://127.0.0.1:" + port);
        try (Http2Browser browser = new Http2Browser()) {
            String setCookie = browser.bootstrap(base, "w1"); // mint (asserted over HTTP/2) and bootstrap
            assertTrue(setCookie.contains("Secure"), setCookie);
            ContentResponse page = Http2Browser.send(browser.request(URI.create(base + "/__ide/w1/"))
                    .headers(h -> h.put("Cookie", Http2Browser.cookie(setCookie))));
            assertEquals(HttpVersion.HTTP_2, page.getVersion());
            assertEquals(200, page.getStatus(), page.getContentAsString());
            assertEquals("workspace page", page.getContentAsString());
            assertEquals(List.of("127.0.0.1:" + port + " https"), seen, "the upstream sees the browser's host and scheme");

            BrowserSocket socket = Http2Browser.open(browser.socketsOverHttp2(), base, "/__ide/w2/terminal",
                    browser.session(base, "w2"));
            assertEquals("echo:/terminal:ls", socket.roundTrip("ls"));
            assertTrue(output.stream().noneMatch(l -> l.contains(TestCertificate.PASSWORD) || l.contains(SECRET)),
                    "a secret in the output:\n" + String.join("\n", output));
        }
    }

    @Test
    void aWrongPasswordIsOneLineWithoutThePassword() throws Exception {
        String wrong = "not-the-password-0123";
        assertRefused(Map.of(
                "IDE_PROXY_STANDALONE_TLS_KEYSTORE", TestCertificate.keyStore().toString(),
                "IDE_PROXY_STANDALONE_TLS_KEYSTORE_PASSWORD", wrong),
                "ide-proxy cannot start: IDE_PROXY_STANDALONE_TLS_KEYSTORE_PASSWORD: does not open \""
                        + TestCertificate.keyStore() + "\" (wrong password)", wrong);
    }

    @Test
    void aKeyStoreThatIsMissingOrNotAKeyStore(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.p12");
        assertRefused(Map.of(
                "IDE_PROXY_STANDALONE_TLS_KEYSTORE", missing.toString(),
                "IDE_PROXY_STANDALONE_TLS_KEYSTORE_PASSWORD", TestCertificate.PASSWORD),
                "ide-proxy cannot start: IDE_PROXY_STANDALONE_TLS_KEYSTORE: \"" + missing
                        + "\" is not a readable file", TestCertificate.PASSWORD);
        Path pem = Files.writeString(dir.resolve("server.pem"), "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
        assertRefused(Map.of(
                "IDE_PROXY_STANDALONE_TLS_KEYSTORE", pem.toString(),
                "IDE_PROXY_STANDALONE_TLS_KEYSTORE_PASSWORD", TestCertificate.PASSWORD),
                "ide-proxy cannot start: IDE_PROXY_STANDALONE_TLS_KEYSTORE: \"" + pem + "\" ", TestCertificate.PASSWORD);
        assertRefused(Map.of("IDE_PROXY_STANDALONE_TLS_KEYSTORE_PASSWORD", TestCertificate.PASSWORD),
                "ide-proxy cannot start: IDE_PROXY_STANDALONE_TLS_KEYSTORE_PASSWORD: is set, but no key store is",
                TestCertificate.PASSWORD);
    }

    private void assertRefused(Map<String, String> tls, String line, String secret) throws Exception {
        Map<String, String> env = new java.util.HashMap<>(tls);
        env.put("IDE_PROXY_TOKEN_SECRET", SECRET);
        env.put("IDE_PROXY_TARGETS", "w1=http://127.0.0.1:1");
        env.put("IDE_PROXY_STANDALONE_PORT", Integer.toString(Distribution.freePort()));
        start(env);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the process should exit");
        assertEquals(LauncherOptions.EXIT_BAD_OPTION, process.exitValue(), String.join("\n", output));
        Thread.sleep(200); // the last lines
        String all = String.join("\n", output);
        assertTrue(output.stream().anyMatch(l -> l.startsWith(line)), "expected a line starting '" + line + "':\n" + all);
        assertFalse(all.contains(secret), "the password was printed:\n" + all);
        assertFalse(all.contains("\tat "), "a stack trace:\n" + all);
        process = null;
    }

    private void start(Map<String, String> env) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-jar", StandaloneWarIT.WAR.toAbsolutePath().toString()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("IDE_PROXY_"));
        pb.environment().putAll(env);
        process = pb.start();
        output = new ProcessLog(process, "standalone-tls").lines();
    }

    private void awaitLine(String fragment) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (output.stream().anyMatch(l -> l.contains(fragment))) {
                return;
            }
            if (!process.isAlive()) {
                break;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("never printed '" + fragment + "':\n" + String.join("\n", output));
    }
}

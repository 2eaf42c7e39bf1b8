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
    ProcessLog log;
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
        log.awaitLine("ide-proxy listening on https://127.0.0.1:" + port + " (HTTP/2 and HTTP/1.1)");
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

    /**
     * A renewed certificate written over the key store (atomically, as certbot's or a mounted secret's
     * swap does) is served to new connections within seconds, with no restart; a file that is no key
     * store is reported and changes nothing (Jetty's own scanner would drop the certificate first).
     */
    @Test
    void aRenewedCertificateIsServedWithoutARestart(@TempDir Path dir) throws Exception {
        Path keyStore = Files.copy(TestCertificate.keyStore(), dir.resolve("server.p12"));
        int port = Distribution.freePort();
        start(Map.of(
                "IDE_PROXY_TOKEN_SECRET", SECRET,
                "IDE_PROXY_AUTH_JWT_HS256_SECRET", Portal.BEARER_SECRET,
                "IDE_PROXY_TARGETS", "w1=http://127.0.0.1:" + upstream.getAddress().getPort(),
                "IDE_PROXY_STANDALONE_PORT", Integer.toString(port),
                "IDE_PROXY_STANDALONE_TLS_KEYSTORE", keyStore.toString(),
                "IDE_PROXY_STANDALONE_TLS_KEYSTORE_PASSWORD", TestCertificate.PASSWORD));
        log.awaitLine("ide-proxy listening on https://127.0.0.1:" + port);
        java.security.PublicKey first = certificateIn(keyStore);
        assertEquals(first, servedKey(port), "the certificate of the start");

        // A file that is no key store (a renewal gone wrong) changes nothing: the last good one is served.
        Path broken = Files.writeString(dir.resolve("broken.p12"), "not a key store");
        Files.move(broken, keyStore, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        log.awaitLine(keyStore + " changed, but it cannot be opened as a key store with the password");
        assertEquals(first, servedKey(port), "the last good certificate while the file is broken:\n" + log);

        Path renewed = TestCertificate.newKeyStore(dir.resolve("renewed.p12"));
        java.security.PublicKey second = certificateIn(renewed);
        Files.move(renewed, keyStore, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        log.awaitLine("ide-proxy: serving the certificate now in " + keyStore);
        assertEquals(second, servedKey(port), "the renewed certificate, without a restart:\n" + log);
        assertTrue(process.isAlive());
    }

    /** The public key of the certificate a new TLS connection to {@code port} is shown. */
    private static java.security.PublicKey servedKey(int port) throws Exception {
        javax.net.ssl.SSLContext trustAll = javax.net.ssl.SSLContext.getInstance("TLS");
        trustAll.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
            @Override
            public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {
            }

            @Override
            public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                return new java.security.cert.X509Certificate[0];
            }
        }}, null);
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) trustAll.getSocketFactory()
                .createSocket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            return socket.getSession().getPeerCertificates()[0].getPublicKey();
        }
    }

    private static java.security.PublicKey certificateIn(Path keyStore) throws Exception {
        java.security.KeyStore store = java.security.KeyStore.getInstance(keyStore.toFile(),
                TestCertificate.PASSWORD.toCharArray());
        return store.getCertificate("server").getPublicKey();
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
        process = StandaloneWarIT.launch(env);
        log = new ProcessLog(process, "standalone-tls");
        output = log.lines();
    }
}

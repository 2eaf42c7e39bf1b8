package dev.ideproxy.example.springboot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.exceptions.UpgradeException;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The example application for real: Spring Boot's embedded server on a free loopback port (Tomcat in
 * {@link PortalApplicationTest}, Jetty in {@link PortalApplicationOnJettyTest}), a real upstream
 * (Jetty, HTTP and WebSocket echo), real HTTP and WebSocket clients. Proves the Spring Boot setup that
 * docs/deployment.md shows: ide-proxy's options from Spring's Environment, the portal's login deciding
 * at the mint endpoint, Spring Security leaving the tunnel alone.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PortalApplicationCases {
    /**
     * A configuration declaring the embedded server's factory, as an application that chose its
     * server does by its starter: with both on the test's class path, the bean decides.
     */
    abstract Class<?> server();

    private static final String PASSWORD = "a-portal-password";
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final AtomicInteger upstreamRequests = new AtomicInteger();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(WAIT).build();
    private Server upstream;
    private ConfigurableApplicationContext portal;
    private WebSocketClient webSockets;
    private URI base;

    /** What ide-proxy's WebSocket upgrade logs: it says once which relay this server gets. */
    private final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> upgradeLog =
            new ch.qos.logback.core.read.ListAppender<>();

    @BeforeAll
    void start() throws Exception {
        upstream = new Server();
        ServerConnector connector = new ServerConnector(upstream);
        connector.setHost("127.0.0.1");
        upstream.addConnector(connector);
        WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(upstream, container -> {
            container.setMaxBinaryMessageSize(4 << 20);
            container.addMapping("/ws", (request, response, callback) -> {
                upstreamRequests.incrementAndGet();
                return new Echo();
            });
        });
        ws.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                upstreamRequests.incrementAndGet();
                String body = "path=" + Request.getPathInContext(request)
                        + " host=" + request.getHeaders().get(HttpHeader.HOST);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
                response.getHeaders().put(HttpHeader.CACHE_CONTROL, "max-age=60");
                response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
                return true;
            }
        });
        upstream.setHandler(ws);
        upstream.start();
        String target = "http://127.0.0.1:" + connector.getLocalPort();

        portal = SpringApplication.run(new Class<?>[] {PortalApplication.class, server()}, new String[] {
                "--server.address=127.0.0.1", "--server.port=0",
                "--example.workspaces=w1=" + target + ",w2=" + target,
                "--spring.security.user.password=" + PASSWORD,
                // an ide-proxy option given as a Spring property: read through Spring's Environment
                "--ide-proxy.token.secret=" + "s".repeat(40)});
        assertEquals(expectedServer(), portal.getBean(org.springframework.boot.web.server.servlet.ServletWebServerFactory.class)
                .getClass().getSimpleName(), "the server under test");
        // After the start: Spring Boot sets logging up afresh as the application starts.
        upgradeLog.start();
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                "dev.ideproxy.internal.websocket.WebSocketUpgrade")).addAppender(upgradeLog);
        base = URI.create("http://127.0.0.1:" + portal.getEnvironment().getProperty("local.server.port"));

        webSockets = new WebSocketClient();
        webSockets.setMaxBinaryMessageSize(4 << 20);
        webSockets.start();
    }

    /** The simple name of the server factory the application must run with. */
    abstract String expectedServer();

    @AfterAll
    void stop() throws Exception {
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                "dev.ideproxy.internal.websocket.WebSocketUpgrade")).detachAppender(upgradeLog);
        if (webSockets != null) {
            webSockets.stop();
        }
        if (portal != null) {
            portal.close();
        }
        if (upstream != null) {
            upstream.stop();
        }
    }

    @Test
    void aSignedInUserOpensTheIdeOverHttpAndWebSocket() throws Exception {
        String cookie = openIde("w1");

        HttpResponse<String> page = send(HttpRequest.newBuilder(base.resolve("/__ide/w1/index.html"))
                .header("Cookie", cookie));
        assertEquals(200, page.statusCode(), page.body());
        assertEquals("path=/index.html host=" + base.getAuthority(), page.body(),
                "prefix stripped, the browser's Host kept");
        assertEquals("max-age=60", page.headers().firstValue("Cache-Control").orElse(null),
                "the IDE's own caching reaches the browser");
        assertTrue(page.headers().firstValue("X-Frame-Options").isEmpty(),
                "Spring Security's X-Frame-Options would block VS Code's webview frames");

        BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        ClientUpgradeRequest upgrade = new ClientUpgradeRequest();
        upgrade.setHeader("Cookie", cookie);
        upgrade.setHeader("Origin", base.toString());
        Session session = webSockets.connect(new Collector(received), wsUri("/__ide/w1/ws"), upgrade)
                .get(WAIT.toSeconds(), TimeUnit.SECONDS);
        session.sendText("hello", org.eclipse.jetty.websocket.api.Callback.NOOP);
        assertEquals("echo:hello", received.poll(WAIT.toSeconds(), TimeUnit.SECONDS));
        byte[] bytes = new byte[1 << 20];
        new Random(7).nextBytes(bytes);
        session.sendBinary(ByteBuffer.wrap(bytes), org.eclipse.jetty.websocket.api.Callback.NOOP);
        Object echoed = received.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(echoed, "no echo of 1 MiB");
        assertArrayEquals(bytes, (byte[]) echoed);
        session.close();
        // Both of Spring Boot's servers let ide-proxy take the connection over: bytes, not messages.
        assertTrue(upgradeLog.list.stream().anyMatch(e -> e.getFormattedMessage()
                .startsWith("WebSocket sessions to http:// workspaces are relayed as bytes (passthrough)")),
                upgradeLog.list.toString());
    }

    @Test
    void theMintEndpointIsBehindThePortalsLogin() throws Exception {
        int before = upstreamRequests.get();
        assertEquals(401, send(mint("w1")).statusCode(), "no login");
        assertEquals(401, send(mint("w1").header("Authorization", basic("alice", "wrong"))).statusCode(),
                "wrong password");
        HttpResponse<String> forbidden = send(mint("w2").header("Authorization", basic("alice", PASSWORD)));
        assertEquals(403, forbidden.statusCode(), "alice lacks the role ide-w2: " + forbidden.body());
        assertTrue(forbidden.body().contains("\"error\""), forbidden.body());
        assertFalse(forbidden.body().contains("token="), forbidden.body());
        assertEquals(before, upstreamRequests.get(), "the workspace was contacted");
    }

    @Test
    void thePortalsLoginDoesNotOpenTheTunnel() throws Exception {
        int before = upstreamRequests.get();
        HttpResponse<String> page = send(HttpRequest.newBuilder(base.resolve("/__ide/w1/index.html"))
                .header("Authorization", basic("alice", PASSWORD)));
        assertEquals(401, page.statusCode(), page.body());

        ClientUpgradeRequest upgrade = new ClientUpgradeRequest();
        upgrade.setHeader("Authorization", basic("alice", PASSWORD));
        ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> webSockets.connect(new Collector(new LinkedBlockingQueue<>()), wsUri("/__ide/w1/ws"), upgrade)
                        .get(WAIT.toSeconds(), TimeUnit.SECONDS));
        assertTrue(refused.getCause() instanceof UpgradeException, String.valueOf(refused.getCause()));
        assertEquals(401, ((UpgradeException) refused.getCause()).getResponseStatusCode());

        String otherWorkspacesCookie = openIde("w1");
        assertEquals(401, send(HttpRequest.newBuilder(base.resolve("/__ide/w2/index.html"))
                .header("Cookie", otherWorkspacesCookie)).statusCode(), "w1's cookie on w2");
        assertEquals(before, upstreamRequests.get(), "the workspace was contacted");
    }

    /** Mints as the portal's signed-in user and follows the bootstrap link; returns the Cookie header. */
    private String openIde(String workspace) throws Exception {
        HttpResponse<String> minted = send(mint(workspace).header("Authorization", basic("alice", PASSWORD)));
        assertEquals(200, minted.statusCode(), minted.body());
        assertEquals("no-store", minted.headers().firstValue("Cache-Control").orElse(null));
        Matcher url = Pattern.compile("\"bootstrapUrl\"\\s*:\\s*\"([^\"]+)\"").matcher(minted.body());
        assertTrue(url.find(), minted.body());

        HttpResponse<String> bootstrap = send(HttpRequest.newBuilder(base.resolve(url.group(1))));
        assertEquals(303, bootstrap.statusCode(), bootstrap.body());
        assertEquals("/__ide/" + workspace + "/", bootstrap.headers().firstValue("Location").orElse(null));
        String setCookie = bootstrap.headers().firstValue("Set-Cookie").orElse("");
        assertTrue(setCookie.contains("HttpOnly") && setCookie.contains("Path=/__ide/" + workspace + "/"), setCookie);
        assertNull(bootstrap.headers().firstValue("X-Frame-Options").orElse(null));
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    private HttpRequest.Builder mint(String workspace) {
        return HttpRequest.newBuilder(base.resolve("/api/dev/" + workspace + "/ide-token"))
                .POST(HttpRequest.BodyPublishers.noBody());
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI wsUri(String path) {
        return URI.create("ws://" + base.getAuthority() + path);
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    /** The upstream's WebSocket: echoes text as {@code echo:<text>} and binary unchanged. */
    public static final class Echo implements Session.Listener.AutoDemanding {
        private Session session;

        @Override
        public void onWebSocketOpen(Session session) {
            this.session = session;
        }

        @Override
        public void onWebSocketText(String message) {
            session.sendText("echo:" + message, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, org.eclipse.jetty.websocket.api.Callback callback) {
            session.sendBinary(payload, callback);
        }
    }

    /** The browser's side: queues text as String and binary as byte[]. */
    public static final class Collector implements Session.Listener.AutoDemanding {
        private final BlockingQueue<Object> received;

        Collector(BlockingQueue<Object> received) {
            this.received = received;
        }

        @Override
        public void onWebSocketText(String message) {
            received.add(message);
        }

        @Override
        public void onWebSocketBinary(ByteBuffer payload, org.eclipse.jetty.websocket.api.Callback callback) {
            byte[] bytes = new byte[payload.remaining()];
            payload.get(bytes);
            received.add(bytes);
            callback.succeed();
        }
    }
}

package dev.ideproxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RawHttp;
import dev.ideproxy.testing.RawRequest;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The drain on both containers, called in code ({@link IdeProxy#drain}) and done by an undeploy:
 * readiness turns 503 at once, live WebSockets close with 1012, new upgrades get 503 with
 * {@code Retry-After}, plain requests are still served, an event stream in flight runs to its end,
 * and one that outlives the timeout is cut.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DrainTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private WebSocketUpstream ws;
    private WebSocketClient client;

    @BeforeAll
    void start() throws Exception {
        ws = new WebSocketUpstream("W");
        client = new WebSocketClient();
        client.start();
    }

    @AfterAll
    void stop() throws Exception {
        client.stop();
        ws.close();
    }

    private IdeProxy proxy(Upstream http) {
        return IdeProxy.builder(IdeProxyConfig.builder()
                        .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                        .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                        .set(ConfigOption.TARGETS, "a=" + http.uri() + ",w=" + ws.uri())
                        .set(ConfigOption.SHUTDOWN_DRAIN_TIMEOUT, "30s") // what an undeploy waits at most
                        .build())
                .build();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void aDrainLetsExchangesFinishAndSendsWebSocketsElsewhere(Container kind) throws Exception {
        try (Upstream http = new Upstream("H")) {
            IdeProxy proxy = proxy(http);
            try (Container.Running server = kind.start("", proxy)) {
                Browser browser = new Browser(server);
                String onA = browser.session("a", "alice");
                String onW = browser.session("w", "alice");
                BrowserSocket socket = BrowserSocket.open(client, server, "/__ide/w/echo", onW);
                socket.session().sendText("hi", Callback.NOOP);
                assertEquals("W|hi", socket.nextMessage(WAIT).text());
                EventStream events = EventStream.open(server, browser, "/__ide/a/events", onA);
                assertEquals("data: first", events.nextData());

                CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> proxy.drain(Duration.ofSeconds(30)));

                BrowserSocket.Closed closed = socket.closed().get(WAIT.toSeconds(), TimeUnit.SECONDS);
                assertEquals(1012, closed.code(), closed.toString());
                assertEquals(503, browser.getPath("/api/health/ready", null).statusCode());
                RawHttp.Response upgrade = RawRequest.get("/__ide/w/echo").webSocket().header("Origin", server.base().toString())
                        .cookie(onW).send(server);
                assertEquals(503, upgrade.status(), upgrade.toString());
                assertNotNull(upgrade.header("Retry-After"), upgrade.toString());
                // Plain requests are still served: a load balancer takes a moment to notice readiness.
                assertEquals(200, browser.getPath("/__ide/a/x", onA).statusCode());
                Thread.sleep(300);
                assertFalse(drained.isDone(), "the drain waits for the event stream");

                http.releaseEvents();
                assertEquals("data: second", events.nextData());
                assertTrue(events.ended(), "the stream ends normally");
                assertTrue(drained.get(WAIT.toSeconds(), TimeUnit.SECONDS), "nothing had to be cut");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void whatOutlivesTheDrainTimeoutIsCut(Container kind) throws Exception {
        try (Upstream http = new Upstream("H")) {
            IdeProxy proxy = proxy(http);
            try (Container.Running server = kind.start("", proxy)) {
                EventStream events = EventStream.afterFirstEvent(server);

                long start = System.nanoTime();
                assertFalse(proxy.drain(Duration.ofMillis(500)), "the stream was still open");
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertTrue(millis >= 450 && millis < 5_000, "drained in " + millis + " ms");
                // Cut: it ends without its second event. Jetty aborts the connection, so the browser sees an
                // incomplete response; Tomcat offers no portable way to abort a response already under way,
                // and ends it (a response with a Content-Length then shows as short; a chunked one does not).
                String rest = events.rest();
                assertFalse(rest.contains("second"), rest);
                if (kind == Container.JETTY) {
                    assertTrue(rest.startsWith("cut:"), "an incomplete response: " + rest);
                }
                http.releaseEvents();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void anUndeployDrainsFirst(Container kind) throws Exception {
        try (Upstream http = new Upstream("H")) {
            IdeProxy proxy = proxy(http);
            try (Container.Running server = kind.start("", proxy)) {
                EventStream events = EventStream.afterFirstEvent(server);

                CompletableFuture<Void> undeploy = CompletableFuture.runAsync(() -> {
                    try {
                        server.stopWebapp();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                Thread.sleep(500);
                assertFalse(undeploy.isDone(), "the undeploy waits for the event stream");
                http.releaseEvents();
                assertEquals("data: second", events.nextData());
                assertTrue(events.ended(), "the stream ends normally");
                undeploy.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            }
        }
    }

    /** A server-sent event stream read line by line, as a browser's EventSource would. */
    private record EventStream(BufferedReader reader, InputStream body) {
        static EventStream open(Container.Running server, Browser browser, String path, String cookie) throws IOException, InterruptedException {
            HttpResponse<InputStream> response = browser.http().send(HttpRequest.newBuilder(server.uri(path))
                    .header("Cookie", cookie).header("Accept", "text/event-stream").build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, response.statusCode());
            return new EventStream(new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8)),
                    response.body());
        }

        /** A session on workspace a, and its event stream once the first event came. */
        static EventStream afterFirstEvent(Container.Running server) throws IOException, InterruptedException {
            Browser browser = new Browser(server);
            EventStream events = open(server, browser, "/__ide/a/events", browser.session("a", "alice"));
            assertEquals("data: first", events.nextData());
            return events;
        }

        /** The next {@code data:} line. */
        String nextData() throws IOException {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (line.startsWith("data:")) {
                    return line;
                }
            }
            return null;
        }

        /** True when the stream ends here, cleanly. */
        boolean ended() throws IOException {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!line.isEmpty()) {
                    return false;
                }
            }
            return true;
        }

        /** What is left, or {@code cut:} and the error when reading it fails (the response was cut before its end). */
        String rest() {
            StringBuilder sb = new StringBuilder();
            try {
                for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                    sb.append(line).append('\n');
                }
                return sb.toString();
            } catch (IOException e) {
                return "cut: " + e + " after " + sb;
            }
        }
    }
}

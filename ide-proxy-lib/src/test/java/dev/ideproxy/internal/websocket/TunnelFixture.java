package dev.ideproxy.internal.websocket;

import dev.ideproxy.config.WebSocketMode;
import static org.junit.jupiter.api.Assertions.fail;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Closer;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RefusingPort;
import dev.ideproxy.testing.WebSocketUpstream;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One test class's view of the WebSocket tunnel, end to end on both containers: real upstream WebSocket
 * servers (one per workspace, tagging their replies), the proxy installed at {@link #CONTEXT} in embedded
 * Jetty 12 and Tomcat 11 (through {@link Containers}), and a real browser-side client (Jetty's) that
 * keeps alice's session cookie per container and workspace and every socket it opened. A JUnit
 * extension, registered in a static field of each class:
 * <pre>{@code
 * @RegisterExtension
 * static final TunnelFixture fixture = new TunnelFixture().upstream("a", "A");
 * }</pre>
 * Before the class it starts all of it; after each case it drops the sockets the case left open (so that
 * a failing case cannot leave sessions behind); after the class it closes everything, last started
 * first. Nothing is shared between classes.
 */
final class TunnelFixture implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
    static final String CONTEXT = "/portal";
    static final Duration WAIT = Duration.ofSeconds(20);
    /**
     * {@code websocket.mode} of every proxy these tests start: the default (auto), or the one the build's
     * second run of them sets ({@code message}, so that Tomcat's message relay stays tested too).
     */
    static final String MODE = System.getProperty("ideproxy.test.websocket-mode", "auto");

    private final Map<String, String> upstreamTags = new LinkedHashMap<>();
    private final List<String> refusingTargets = new ArrayList<>();
    private final Map<String, WebSocketUpstream> upstreams = new ConcurrentHashMap<>();
    private final Map<String, String> cookies = new ConcurrentHashMap<>();
    private final List<BrowserSocket> opened = new CopyOnWriteArrayList<>();
    private final Closer closer = new Closer();
    private Containers servers;
    private WebSocketClient client;

    /** Workspace {@code id} is a {@link WebSocketUpstream} that tags its replies with {@code tag}. */
    TunnelFixture upstream(String id, String tag) {
        upstreamTags.put(id, tag);
        return this;
    }

    /** Workspace {@code id} is a loopback port that refuses connections (a {@link RefusingPort}). */
    TunnelFixture refusing(String id) {
        refusingTargets.add(id);
        return this;
    }

    /**
     * Starts the upstreams, then both containers with them as targets, the test secrets, and
     * {@code https://portal.example} as an allowed WebSocket origin; then the client.
     */
    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        try {
            StringJoiner targets = new StringJoiner(",");
            for (Map.Entry<String, String> upstream : upstreamTags.entrySet()) {
                WebSocketUpstream server = closer.add(new WebSocketUpstream(upstream.getValue()));
                upstreams.put(upstream.getKey(), server);
                targets.add(upstream.getKey() + "=" + server.uri());
            }
            for (String id : refusingTargets) {
                targets.add(id + "=http://127.0.0.1:" + closer.add(new RefusingPort()).port());
            }
            IdeProxyConfig config = IdeProxyConfig.builder()
                    .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                    .set(ConfigOption.WS_MODE, MODE)
                    .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                    .set(ConfigOption.TARGETS, targets.toString())
                    .set(ConfigOption.WS_ALLOWED_ORIGINS, "https://portal.example")
                    .build();
            servers = closer.add(Containers.start(CONTEXT, kind -> IdeProxy.builder(config).build()));
            client = new WebSocketClient();
            client.setIdleTimeout(Duration.ofMinutes(5));
            client.setMaxBinaryMessageSize(256L << 20);
            client.setMaxTextMessageSize(256L << 20);
            client.start();
            closer.add(client::stop);
        } catch (Exception e) {
            throw closer.closeAfter(e);
        }
    }

    /** Drops every socket the case opened and left open. */
    @Override
    public void afterEach(ExtensionContext context) {
        for (BrowserSocket socket : opened) {
            Session session = socket.session();
            if (session != null && session.isOpen()) {
                session.disconnect();
            }
        }
        opened.clear();
    }

    /** Stops the client, then the containers, then the upstreams. */
    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        closer.close();
    }

    /** The upstream of workspace {@code id}. */
    WebSocketUpstream upstream(String id) {
        return upstreams.get(id);
    }

    Container.Running server(Container kind) {
        return servers.get(kind);
    }

    /** The tunnel installed in the container of this kind. */
    WebSocketTunnel tunnel(Container kind) {
        return WebSocketTunnel.of(servers.context(kind));
    }

    /** Opens {@code pathAndQuery} of {@code workspace} with alice's session cookie for it. */
    BrowserSocket open(Container kind, String workspace, String pathAndQuery, Consumer<ClientUpgradeRequest> customize)
            throws Exception {
        return open(servers.get(kind), workspace, pathAndQuery, cookie(kind, workspace), customize);
    }

    /** Opens {@code pathAndQuery} of {@code workspace} on {@code server} (perhaps not one of this fixture's). */
    BrowserSocket open(Container.Running server, String workspace, String pathAndQuery, String cookie,
                       Consumer<ClientUpgradeRequest> customize) throws Exception {
        BrowserSocket socket = new BrowserSocket();
        ClientUpgradeRequest request = new ClientUpgradeRequest();
        request.setHeader("Cookie", cookie);
        customize.accept(request);
        URI uri = URI.create("ws://" + server.hostHeader() + CONTEXT + "/__ide/" + workspace + pathAndQuery);
        opened.add(socket);
        CompletableFuture<Session> connecting = client.connect(socket, uri, request);
        try {
            connecting.get(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            // Given up on (refused, timed out, interrupted): never leave a late connection open.
            connecting.thenAccept(Session::disconnect);
            throw e;
        }
        return socket;
    }

    /** {@code ide_proxy_session=...} of alice's session for {@code workspace}, one per container. */
    String cookie(Container kind, String workspace) {
        return cookies.computeIfAbsent(kind + "/" + workspace, k -> {
            try {
                return new Browser(servers.get(kind)).session(workspace, "alice");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /**
     * True when this container relays WebSockets as bytes ({@code websocket.mode} auto: Tomcat), where
     * what crosses is exactly what the other side sent: close frames without a code, extension offers.
     */
    boolean passthrough(Container kind) {
        return tunnel(kind).settings().mode() != WebSocketMode.MESSAGE;
    }

    /** Waits until the tunnel of this kind holds no relay. */
    void awaitNoRelays(Container kind) throws InterruptedException {
        WebSocketTunnel tunnel = tunnel(kind);
        waitUntil(() -> tunnel.relays().size() == 0, WAIT, () -> "relays to close: "
                + tunnel.relays().snapshot().stream().map(LiveRelay::describe).toList());
    }

    /** Closes {@code socket} normally (if it is still open) and waits for the close handshake. */
    static void close(BrowserSocket socket) throws Exception {
        if (socket.isOpen()) {
            socket.session().close(1000, "done", Callback.NOOP);
        }
        socket.closed().get(20, TimeUnit.SECONDS);
    }

    static void waitUntil(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        waitUntil(condition, timeout, () -> what);
    }

    static void waitUntil(BooleanSupplier condition, Duration timeout, Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout + " waiting for " + what.get());
            }
            Thread.sleep(20);
        }
    }

    /** {@code size} characters of text mixing 1-, 2-, 3- and 4-byte UTF-8 characters. */
    static String text(int size, Random random) {
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 éü€語";
        StringBuilder sb = new StringBuilder(size);
        while (sb.length() < size) {
            if (size - sb.length() >= 2 && random.nextInt(50) == 0) {
                sb.append("😀");
            } else {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
        }
        return sb.toString();
    }
}

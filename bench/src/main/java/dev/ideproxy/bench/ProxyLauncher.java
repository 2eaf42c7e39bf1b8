package dev.ideproxy.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.redis.RedisStores;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.websocket.server.WsSci;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * ide-proxy on embedded Jetty 12 or Tomcat 11, installed through the public API exactly as a host
 * application would, with workspace {@code bench} mapped to the upstream. It writes a valid session
 * cookie ({@code name=value}) to a file, minted with the library's own {@code TokenService}, and
 * serves a small heap probe on a second loopback port:
 * <ul>
 *   <li>{@code /mark}: full collection, then records the live heap as the baseline and resets the peak;</li>
 *   <li>{@code /sample}: full collection, then records the live heap into the peak;</li>
 *   <li>{@code /peak}: {@code baseline peak peakAny} in bytes: the largest forced sample, and the
 *       largest heap after any collection (the JVM's own ones too) since {@code /mark}.</li>
 * </ul>
 * Usage: {@code ProxyLauncher jetty|tomcat PORT UPSTREAM_URI COOKIE_FILE PROBE_PORT [REDIS_URI [WS_MODE]]}:
 * with {@code REDIS_URI} (e.g. {@code redis://127.0.0.1:18085}), used bootstrap tokens and revocations
 * are kept in Redis through {@link RedisStores}, as the WAR does with {@code ide-proxy.store.redis-uri};
 * without it (or with {@code -}), in memory. With {@code WS_MODE} ({@code auto}, {@code passthrough} or
 * {@code message}), the proxy is configured with {@code ide-proxy.websocket.mode} set to it, so that
 * bench/run can compare the WebSocket modes of one container in the same run; without it (or with
 * {@code -}), the option keeps its default.
 */
public final class ProxyLauncher {
    static final String PROXY_SECRET = "bench-proxy-secret-0123456789abcdef-0123456789";
    static final String BEARER_SECRET = "bench-bearer-secret-0123456789abcdef-012345678";

    /** The option that chooses the WebSocket relay (passthrough or message level), by its name. */

    private static final AtomicLong baseline = new AtomicLong();
    /** Largest live heap of the forced samples since /mark. */
    private static final AtomicLong peak = new AtomicLong();
    /** Largest heap after any collection since /mark, the JVM's own ones included. */
    private static final AtomicLong peakAfterAnyGc = new AtomicLong();

    public static void main(String[] args) throws Exception {
        String kind = args[0];
        int port = Integer.parseInt(args[1]);
        String upstream = args[2];
        Path cookieFile = Path.of(args[3]);
        int probePort = Integer.parseInt(args[4]);
        String redisUri = args.length > 5 && !args[5].equals("-") ? args[5] : null;
        String websocketMode = args.length > 6 && !args[6].equals("-") ? args[6] : null;

        IdeProxyConfig.Builder options = IdeProxyConfig.builder()
                .set(ConfigOption.TOKEN_SECRET, PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, BEARER_SECRET)
                .set(ConfigOption.TARGETS, "bench=" + upstream)
                // Limits off: 8,000 WebSockets on one session, and mint+bootstrap loops as one user.
                .set(ConfigOption.LIMIT_MINT_PER_USER, "0")
                .set(ConfigOption.LIMIT_MINT_PER_WORKSPACE, "0")
                .set(ConfigOption.LIMIT_BOOTSTRAP_PER_USER, "0")
                .set(ConfigOption.LIMIT_BOOTSTRAP_PER_WORKSPACE, "0")
                .set(ConfigOption.LIMIT_WEBSOCKETS_PER_SESSION, "0")
                .set(ConfigOption.LIMIT_WEBSOCKETS_PER_USER, "0");
        if (websocketMode != null) {
            options.set(ConfigOption.WS_MODE, websocketMode);
        }
        IdeProxy.Builder builder = IdeProxy.builder(options.build());
        if (redisUri != null) {
            // As the WAR wires ide-proxy.store.redis-uri (default command timeout, 500 ms).
            RedisStores stores = RedisStores.connect(redisUri, Duration.ofMillis(500));
            builder.replayStore(stores.replayStore()).revocationStore(stores.revocationStore());
        }
        IdeProxy proxy = builder.build();
        switch (kind) {
            case "jetty" -> startJetty(port, proxy);
            case "tomcat" -> startTomcat(port, proxy);
            default -> throw new IllegalArgumentException("jetty or tomcat, not " + kind);
        }
        Files.writeString(cookieFile, sessionCookie(proxy, port));
        startProbe(probePort);
        System.out.println("ide-proxy on " + kind + " listening on " + port
                + (redisUri == null ? ", stores in memory" : ", stores in Redis")
                + (websocketMode == null ? "" : ", " + ConfigOption.WS_MODE.key() + "=" + websocketMode));
    }

    /** The session cookie a browser gets: a bootstrap link minted through the API, redeemed over HTTP. */
    private static String sessionCookie(IdeProxy proxy, int port) throws Exception {
        String link = proxy.bootstrapLink("", "bench", "bench").url();
        java.net.http.HttpResponse<Void> response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port + link)).build(),
                java.net.http.HttpResponse.BodyHandlers.discarding());
        String setCookie = response.headers().firstValue("Set-Cookie")
                .orElseThrow(() -> new IllegalStateException("bootstrap answered " + response.statusCode()));
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    private static void startJetty(int port, IdeProxy proxy) throws Exception {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        connector.setAcceptQueueSize(4096);
        String headerCache = System.getProperty("bench.jetty.headerCacheSize");
        if (headerCache != null) {
            // For experiments only (bench/run never sets it): Jetty's per-connection request-header cache.
            connector.getConnectionFactory(org.eclipse.jetty.server.HttpConnectionFactory.class)
                    .getHttpConfiguration().setHeaderCacheSize(Integer.parseInt(headerCache));
        }
        // The setting docs/deployment.md recommends for Jetty (and the standalone WAR uses): request bodies
        // read 64 KiB at a time (default 8 KiB), as nginx is given 64 KiB buffers. Pooled, held only while reading.
        connector.getConnectionFactory(org.eclipse.jetty.server.HttpConnectionFactory.class)
                .getHttpConfiguration().setInputBufferSize(Integer.getInteger("bench.jetty.inputBufferSize", 64 * 1024));
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("");
        context.addServletContainerInitializer((classes, ctx) -> proxy.install(ctx));
        JakartaWebSocketServletContainerInitializer.configure(context, null);
        server.setHandler(context);
        server.start();
    }

    private static void startTomcat(int port, IdeProxy proxy) throws Exception {
        Path baseDir = Files.createTempDirectory("ide-proxy-bench-tomcat");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        Connector connector = new Connector();
        connector.setPort(port);
        connector.setProperty("address", "127.0.0.1");
        // Deployment settings for this load, not library ones: Tomcat's defaults close a keep-alive
        // connection after 100 requests and accept at most 8192 connections.
        connector.setProperty("maxKeepAliveRequests", "-1");
        connector.setProperty("maxConnections", "20000");
        connector.setProperty("acceptCount", "4096");
        for (String buffer : new String[] {"appReadBufSize", "appWriteBufSize"}) {
            // For experiments only (bench/run never sets them): Tomcat allocates these buffers per
            // connection, idle WebSockets included (default 8 KiB each); see docs/deployment.md.
            String size = System.getProperty("bench.tomcat." + buffer);
            if (size != null) {
                connector.setProperty("socket." + buffer, size);
            }
        }
        tomcat.getService().addConnector(connector);
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", Files.createDirectories(baseDir.resolve("docs")).toString());
        context.addServletContainerInitializer(new WsSci(), null);
        context.addServletContainerInitializer((classes, ctx) -> proxy.install(ctx), null);
        tomcat.start();
    }

    // ------------------------------------------------------------------ heap probe

    private static void startProbe(int port) throws IOException {
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener((notification, handback) -> {
                if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                    var info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                    long after = 0;
                    for (Map.Entry<String, MemoryUsage> e : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
                        if (isHeapPool(e.getKey())) {
                            after += e.getValue().getUsed();
                        }
                    }
                    long a = after;
                    peakAfterAnyGc.accumulateAndGet(a, Math::max);
                }
            }, null, null);
        }
        HttpServer probe = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 16);
        probe.createContext("/mark", exchange -> {
            long live = live();
            baseline.set(live);
            peak.set(live);
            peakAfterAnyGc.set(live);
            answer(exchange, Long.toString(live));
        });
        probe.createContext("/sample", exchange -> {
            long live = live();
            peak.accumulateAndGet(live, Math::max);
            peakAfterAnyGc.accumulateAndGet(live, Math::max);
            answer(exchange, Long.toString(live));
        });
        probe.createContext("/peak", exchange -> answer(exchange,
                baseline.get() + " " + peak.get() + " " + peakAfterAnyGc.get()));
        probe.start();
    }

    private static boolean isHeapPool(String name) {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getName().equals(name)) {
                return pool.getType() == MemoryType.HEAP;
            }
        }
        return false;
    }

    /** The heap in use right after full collections: the live heap. */
    static long live() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void answer(HttpExchange exchange, String text) throws IOException {
        byte[] body = (text + "\n").getBytes(StandardCharsets.US_ASCII);
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
        exchange.close();
    }

    private ProxyLauncher() {
    }
}

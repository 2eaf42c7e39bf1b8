package dev.ideproxy.testing;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real upstream HTTP server (the JDK's) on an ephemeral loopback port that records every request
 * it receives and serves a few endpoints useful for proxy tests:
 * <ul>
 *   <li>anything else: 200 with {@code tag}, the path and the query;</li>
 *   <li>{@code /bytes?n=N}: N bytes of a fixed pattern, streamed with a Content-Length;</li>
 *   <li>{@code /count}: reads the request body to the end and answers the number of bytes;</li>
 *   <li>{@code /events}: one server-sent event, then waits for {@link #releaseEvents()} before the second;</li>
 *   <li>{@code /silent}: answers nothing for 10 s;</li>
 *   <li>{@code /redirect?to=X}: 302 to X; {@code /set-cookie}: sets two cookies with paths.</li>
 * </ul>
 */
public final class Upstream implements AutoCloseable {
    /** What the upstream saw of one request. */
    public record Seen(String method, String path, String query, Map<String, List<String>> headers, long bodyBytes) {
        /** The single value of a header, or null. */
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(java.util.Locale.ROOT));
            return values == null ? null : String.join(", ", values);
        }
    }

    private final String tag;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    private volatile CountDownLatch eventsRelease = new CountDownLatch(1);

    public Upstream(String tag) throws IOException {
        this.tag = tag;
        this.server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public List<Seen> seen() {
        return List.copyOf(seen);
    }

    public Seen last() {
        List<Seen> all = seen();
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    public void releaseEvents() {
        eventsRelease.countDown();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getRawPath();
            String query = exchange.getRequestURI().getRawQuery();
            long body = drain(exchange.getRequestBody());
            Map<String, List<String>> headers = exchange.getRequestHeaders().entrySet().stream()
                    .collect(Collectors.toMap(e -> e.getKey().toLowerCase(java.util.Locale.ROOT), Map.Entry::getValue));
            seen.add(new Seen(exchange.getRequestMethod(), path, query, headers, body));
            Headers out = exchange.getResponseHeaders();
            switch (path) {
                case "/bytes" -> {
                    long n = Long.parseLong(query.substring(2));
                    out.set("Content-Type", "application/octet-stream");
                    exchange.sendResponseHeaders(200, n);
                    OutputStream os = exchange.getResponseBody();
                    byte[] chunk = new byte[64 * 1024];
                    for (int i = 0; i < chunk.length; i++) {
                        chunk[i] = (byte) i;
                    }
                    long left = n;
                    while (left > 0) {
                        int len = (int) Math.min(left, chunk.length);
                        os.write(chunk, 0, len);
                        left -= len;
                    }
                }
                case "/count" -> send(exchange, 200, Long.toString(body));
                case "/events" -> {
                    out.set("Content-Type", "text/event-stream");
                    exchange.sendResponseHeaders(200, 0);
                    OutputStream os = exchange.getResponseBody();
                    os.write("data: first\n\n".getBytes(StandardCharsets.UTF_8));
                    os.flush();
                    eventsRelease.await(10, TimeUnit.SECONDS);
                    os.write("data: second\n\n".getBytes(StandardCharsets.UTF_8));
                }
                case "/silent" -> {
                    Thread.sleep(10_000);
                    send(exchange, 200, "too late");
                }
                case "/redirect" -> {
                    out.set("Location", java.net.URLDecoder.decode(query.substring(3), StandardCharsets.UTF_8));
                    exchange.sendResponseHeaders(302, -1);
                }
                case "/set-cookie" -> {
                    out.add("Set-Cookie", "app=1; Path=/static; HttpOnly");
                    out.add("Set-Cookie", "wide=2; Path=/; Domain=example.com");
                    out.add("Set-Cookie", "ide_proxy_session=evil; Path=/");
                    send(exchange, 200, "cookies");
                }
                default -> send(exchange, 200, tag + " " + exchange.getRequestMethod() + " " + path
                        + (query == null ? "" : "?" + query));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the proxy or client went away; nothing to record
        }
    }

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain;charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private static long drain(InputStream in) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            total += n;
        }
        return total;
    }

    @Override
    public void close() {
        eventsRelease.countDown();
        server.stop(0);
        executor.shutdownNow();
    }
}

package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * A real nginx (Debian's package) as the load balancer in front of several ide-proxy nodes, running
 * <em>the configuration that docs/deployment.md shows</em> ("Load balancer without affinity"): the
 * test reads it from the document and changes only the addresses (the nodes' and its own loopback
 * port instead of 443 with TLS). It runs as a plain process with its own prefix directory, error
 * log and pid file; its access log records, for each request, which node served it
 * ({@code $upstream_addr}) and the status.
 *
 * <p>When nginx is missing the tests are skipped, unless {@code IDE_PROXY_E2E_REQUIRED} is set (CI),
 * where they fail.
 */
final class Nginx implements AutoCloseable {
    static final String DOCS_HEADING = "### Load balancer without affinity (nginx)";

    /** One access log line: the request, its status, and the node that answered it (host:port). */
    record Hit(String method, String path, int status, String node) {
    }

    final int port;
    final Path prefix;
    private final Process process;
    private final ProcessLog output;

    private Nginx(int port, Path prefix, Process process) {
        this.port = port;
        this.prefix = prefix;
        this.process = process;
        this.output = new ProcessLog(process, "nginx");
    }

    /** nginx's binary, or null when it is not installed. */
    static Path binary() {
        List<Path> candidates = new ArrayList<>();
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isBlank()) {
                candidates.add(Path.of(dir, "nginx"));
            }
        }
        candidates.add(Path.of("/usr/sbin/nginx"));
        return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** Skips the test when nginx is missing, or fails it when end-to-end tests are required. */
    static void requireInstalled() {
        if (binary() == null) {
            String required = System.getProperty("e2e.required");
            if (required != null && !required.isBlank() && !required.startsWith("${") && !required.equals("0")
                    && !required.equalsIgnoreCase("false")) {
                fail("nginx is not installed (Debian package nginx-light) and IDE_PROXY_E2E_REQUIRED is set");
            }
            Assumptions.abort("nginx is not installed (Debian package nginx-light)");
        }
    }

    /** The nginx block of docs/deployment.md's "Load balancer without affinity (nginx)", as written. */
    static String documentedConfiguration() throws IOException {
        Path docs = Path.of(System.getProperty("basedir", ".")).resolve("../docs/deployment.md").normalize();
        String text = Files.readString(docs);
        int heading = text.indexOf(DOCS_HEADING);
        if (heading < 0) {
            throw new AssertionError(docs + " has no section '" + DOCS_HEADING + "'");
        }
        Matcher block = Pattern.compile("```nginx\n(.*?)```", Pattern.DOTALL).matcher(text);
        if (!block.find(heading)) {
            throw new AssertionError("no nginx block under '" + DOCS_HEADING + "' in " + docs);
        }
        return block.group(1);
    }

    /**
     * The documented configuration with the two example nodes replaced by {@code nodes} and the TLS
     * listener by a plain one on {@code port}; fails when the document no longer has those lines.
     */
    static String render(String documented, int port, List<URI> nodes) {
        if (nodes.size() != 2) {
            throw new IllegalArgumentException("the documented configuration has two nodes");
        }
        String rendered = documented;
        rendered = replaceOnce(rendered, "server 10.0.0.11:8080;", "server 127.0.0.1:" + nodes.get(0).getPort() + ";");
        rendered = replaceOnce(rendered, "server 10.0.0.12:8080;", "server 127.0.0.1:" + nodes.get(1).getPort() + ";");
        rendered = replaceOnce(rendered, "listen 443 ssl;", "listen 127.0.0.1:" + port + ";");
        return rendered;
    }

    private static String replaceOnce(String text, String from, String to) {
        int at = text.indexOf(from);
        if (at < 0 || text.indexOf(from, at + 1) >= 0) {
            throw new AssertionError("docs/deployment.md's nginx configuration should contain '" + from
                    + "' once; the test renders it for its own nodes:\n" + text);
        }
        return text.substring(0, at) + to + text.substring(at + from.length());
    }

    /**
     * Writes a main configuration around {@code httpBlock} (contents of {@code http {}}), checks it
     * with {@code nginx -t}, starts nginx in the foreground and waits until it proxies a request.
     */
    static Nginx start(Path prefix, int port, String httpBlock) throws Exception {
        Path logs = Files.createDirectories(prefix.resolve("logs"));
        Files.createDirectories(prefix.resolve("temp"));
        boolean root = "root".equals(System.getProperty("user.name"));
        String conf = (root ? "user root;\n" : "") + """
                daemon off;
                master_process on;
                worker_processes 1;
                pid %1$s/nginx.pid;
                error_log %2$s/error.log notice;
                events { worker_connections 1024; }
                http {
                    log_format balance '$request_method $uri $status $upstream_addr';
                    access_log %2$s/access.log balance;
                    client_body_temp_path %1$s/temp/body;
                    proxy_temp_path %1$s/temp/proxy;

                %3$s
                }
                """.formatted(prefix, logs, httpBlock.indent(4));
        Path file = prefix.resolve("nginx.conf");
        Files.writeString(file, conf);

        List<String> base = List.of(binary().toString(), "-p", prefix + "/", "-c", file.toString(),
                "-e", logs.resolve("error.log").toString());
        List<String> test = new ArrayList<>(base);
        test.add("-t");
        Process check = new ProcessBuilder(test).redirectErrorStream(true).start();
        String checked = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!check.waitFor(30, TimeUnit.SECONDS) || check.exitValue() != 0) {
            throw new AssertionError("nginx -t refused the configuration:\n" + checked + "\n" + conf);
        }

        Nginx nginx = new Nginx(port, prefix, new ProcessBuilder(base).redirectErrorStream(true).start());
        nginx.awaitProxying();
        return nginx;
    }

    URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    String hostHeader() {
        return "127.0.0.1:" + port;
    }

    private void awaitProxying() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline && process.isAlive()) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/ide/api/dev/probe/ide-token"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 405) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        close();
        throw new AssertionError("nginx did not proxy to the nodes:\n" + output + "\n" + errorLog());
    }

    /** The access log so far. */
    List<Hit> hits() throws IOException {
        Path log = prefix.resolve("logs/access.log");
        List<Hit> hits = new ArrayList<>();
        if (!Files.exists(log)) {
            return hits;
        }
        for (String line : Files.readAllLines(log)) {
            String[] f = line.split(" ", 4);
            hits.add(new Hit(f[0], f[1], Integer.parseInt(f[2]), f.length > 3 ? f[3] : "-"));
        }
        return hits;
    }

    /** The access log lines after the first {@code from}. */
    List<Hit> hitsSince(int from) throws IOException {
        List<Hit> all = hits();
        return new ArrayList<>(all.subList(Math.min(from, all.size()), all.size()));
    }

    String errorLog() {
        try {
            return Files.readString(prefix.resolve("logs/error.log"));
        } catch (IOException e) {
            return "(no error log)";
        }
    }

    @Override
    public void close() throws InterruptedException {
        // SIGTERM: the master stops its workers and removes its pid file.
        List<ProcessHandle> workers = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        for (ProcessHandle worker : workers) {
            if (worker.isAlive()) {
                worker.destroyForcibly();
            }
        }
    }
}

package dev.ideproxy.war.soak;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The proxy under test: the standalone WAR ({@code java -jar ide-proxy.war}) in its own process,
 * configured through environment variables as an operator would, so that every figure sampled is
 * its own and none is the load's. Samples come from outside the process: {@code jcmd} (a full
 * collection, then the heap), {@code /proc} (descriptors, sockets) and its Prometheus endpoint.
 */
final class SoakProxy implements AutoCloseable {
    private static final Pattern HEAP_USED = Pattern.compile("heap\\s+total \\d+K, used (\\d+)K");
    private static final Pattern METASPACE_USED = Pattern.compile("Metaspace\\s+used (\\d+)K");

    private final Process process;
    private final List<String> output = new CopyOnWriteArrayList<>();
    private final int port;
    private final String scrapeSecret;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * Starts {@code java <javaOptions> -jar war} with {@code environment} (on top of the launcher's
     * port and the metrics endpoint) and waits until it listens.
     */
    SoakProxy(Path war, List<String> javaOptions, Map<String, String> environment, String scrapeSecret)
            throws IOException, InterruptedException {
        this.port = freePort();
        this.scrapeSecret = scrapeSecret;
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(javaOptions);
        command.add("-jar");
        command.add(war.toAbsolutePath().toString());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("IDE_PROXY_"));
        pb.environment().putAll(environment);
        pb.environment().put("IDE_PROXY_STANDALONE_PORT", Integer.toString(port));
        pb.environment().put("IDE_PROXY_METRICS_PROMETHEUS_PATH", "/api/metrics");
        pb.environment().put("IDE_PROXY_METRICS_PROMETHEUS_BEARER_SECRET", scrapeSecret);
        process = pb.start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "soak-proxy-output");
        reader.setDaemon(true);
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (output.stream().noneMatch(l -> l.contains("ide-proxy listening on"))) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                close();
                throw new IllegalStateException("the proxy did not start:\n" + String.join("\n", output));
            }
            Thread.sleep(100);
        }
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** The process's output so far. */
    List<String> output() {
        return output;
    }

    /**
     * One sample: live heap and metaspace after a full collection, JVM threads, open descriptors,
     * live relays (the proxy's own gauge) and the proxy's TCP sockets to {@code upstreamPort}.
     */
    Sample sample(int index, long elapsedSeconds, int upstreamPort) throws IOException, InterruptedException {
        jcmd("GC.run");
        String heap = jcmd("GC.heap_info");
        Map<String, Double> metrics = scrape("ide_proxy_websocket_relays_live", "jvm_threads_live_threads");
        return new Sample(index, elapsedSeconds,
                kib(HEAP_USED, heap) / 1024.0, kib(METASPACE_USED, heap) / 1024.0,
                metrics.get("jvm_threads_live_threads"), openFiles(),
                metrics.get("ide_proxy_websocket_relays_live"), upstreamSockets(upstreamPort), cpuSeconds(),
                loadAverage());
    }

    /** The process's CPU time so far (user + system), from {@code /proc/PID/stat}, at 100 ticks a second. */
    private double cpuSeconds() throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid()), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime, stime: fields 14 and 15
    }

    /** The machine's one-minute load average: the soak shares it with whatever else runs. */
    private static double loadAverage() throws IOException {
        return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    }

    private String jcmd(String command) throws IOException, InterruptedException {
        Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(pid()), command).redirectErrorStream(true).start();
        String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!jcmd.waitFor(60, TimeUnit.SECONDS) || jcmd.exitValue() != 0) {
            throw new IOException("jcmd " + command + " failed: " + out);
        }
        return out;
    }

    private static long kib(Pattern pattern, String text) throws IOException {
        Matcher m = pattern.matcher(text);
        if (!m.find()) {
            throw new IOException("unexpected GC.heap_info output: " + text);
        }
        return Long.parseLong(m.group(1));
    }

    /** The named gauges from the proxy's Prometheus endpoint (unlabelled series, summed if several). */
    private Map<String, Double> scrape(String... names) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base() + "/api/metrics"))
                .header("Authorization", "Bearer " + scrapeSecret).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("metrics answered " + response.statusCode());
        }
        Map<String, Double> values = new java.util.HashMap<>();
        for (String line : response.body().split("\n")) {
            for (String name : names) {
                if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                    String[] parts = line.trim().split("\\s+");
                    values.merge(name, Double.parseDouble(parts[parts.length - 1]), Double::sum);
                }
            }
        }
        for (String name : names) {
            if (!values.containsKey(name)) {
                throw new IOException("no " + name + " in the metrics");
            }
        }
        return values;
    }

    private long openFiles() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid()), "fd"))) {
            return fds.count();
        }
    }

    /**
     * The process's TCP sockets whose remote port is {@code upstreamPort}, in any state: the
     * namespace's socket tables ({@code /proc/PID/net/tcp*}) matched by inode with the process's
     * own descriptors ({@code socket:[inode]}), so the load's sockets are never counted.
     */
    private long upstreamSockets(int upstreamPort) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid()), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // the descriptor was closed while listing
                }
            }
        }
        String remotePort = String.format(Locale.ROOT, ":%04X", upstreamPort);
        long count = 0;
        for (String table : new String[] {"tcp", "tcp6"}) {
            Path file = Path.of("/proc", Long.toString(pid()), "net", table);
            if (!Files.exists(file)) {
                continue;
            }
            for (String line : Files.readAllLines(file)) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
                if (f.length > 9 && f[2].endsWith(remotePort) && inodes.contains(f[9])) {
                    count++;
                }
            }
        }
        return count;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /**
     * One row of the table. The proxy's CPU seconds and the machine's load are shown, not judged.
     */
    record Sample(int index, long seconds, double heapMiB, double metaspaceMiB, double threads, double openFiles,
                  double relays, double upstreamConnections, double cpuSeconds, double load) {
    }
}

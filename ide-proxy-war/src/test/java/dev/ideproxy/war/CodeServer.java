package dev.ideproxy.war;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real code-server (the npm package) on a loopback port, without its own authentication, opening
 * {@code folder}. Its settings turn off what gets in a test's way (workspace trust, welcome page)
 * and make the terminal render into the DOM so a test can read it.
 */
final class CodeServer implements AutoCloseable {
    /** Where the binary is: system property {@code code-server.bin}, set from IDE_PROXY_CODE_SERVER. */
    static Path binary() {
        String value = System.getProperty("code-server.bin");
        return value == null || value.isBlank() || value.startsWith("${") ? null : Path.of(value);
    }

    final int port;
    final Path folder;
    private final Process process;
    private ProcessLog output;

    CodeServer(Path home, Path folder) throws Exception {
        this(home, folder, Distribution.freePort());
    }

    /** On a given free port, so that a proxy can be configured for it while this starts. */
    CodeServer(Path home, Path folder, int port) throws Exception {
        this.folder = folder;
        this.port = port;
        Path userData = Files.createDirectories(home.resolve("user-data"));
        Files.createDirectories(userData.resolve("User"));
        Files.writeString(userData.resolve("User/settings.json"), """
                {
                  "security.workspace.trust.enabled": false,
                  "workbench.startupEditor": "none",
                  "workbench.tips.enabled": false,
                  "terminal.integrated.gpuAcceleration": "off",
                  "terminal.integrated.defaultProfile.linux": "sh",
                  "telemetry.telemetryLevel": "off",
                  "extensions.autoCheckUpdates": false,
                  "update.mode": "none"
                }
                """);
        ProcessBuilder pb = new ProcessBuilder(binary().toString(), "--auth", "none", "--bind-addr", "127.0.0.1:" + port,
                "--user-data-dir", userData.toString(), "--extensions-dir", home.resolve("extensions").toString(),
                "--config", home.resolve("config.yaml").toString(),
                "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", folder.toString())
                .redirectErrorStream(true);
        // code-server's launcher runs "node" from PATH, and needs the Node 24 installed beside it.
        pb.environment().put("PATH", binary().getParent() + java.io.File.pathSeparator + System.getenv("PATH"));
        pb.environment().put("SHELL", "/bin/sh");
        pb.environment().put("HOME", home.toString());
        process = pb.start();
        output = new ProcessLog(process, "code-server-" + port);
        awaitHealthy();
    }

    String uri() {
        return "http://127.0.0.1:" + port;
    }

    String output() {
        return output.toString();
    }

    private void awaitHealthy() throws Exception {
        // HTTP/1.1: the JDK client's default h2c upgrade attempt gets no answer from code-server.
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline && process.isAlive()) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(uri() + "/healthz"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // starting
            }
            Thread.sleep(250);
        }
        close();
        throw new AssertionError("code-server did not start:\n" + output());
    }

    /**
     * Kills code-server and everything it started (its server, pty host, extension host, shells) with
     * SIGKILL, as a crash or an OOM kill would: nothing gets to close its connections.
     */
    void kill() throws InterruptedException {
        java.util.List<ProcessHandle> tree = new java.util.ArrayList<>(process.descendants().toList());
        tree.add(process.toHandle());
        tree.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle p : tree) {
            p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> p).join();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.descendants().forEach(ProcessHandle::destroy);
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}

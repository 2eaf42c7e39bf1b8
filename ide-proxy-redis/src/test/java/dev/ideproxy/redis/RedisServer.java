package dev.ideproxy.redis;

import static org.junit.jupiter.api.Assertions.fail;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real {@code redis-server} (Debian's package) for the tests: started as a plain process on a free
 * loopback port with a temporary directory and no persistence, optionally with a password and ACL
 * users; it can be stopped and started again on the same port, as an outage would.
 *
 * <p>When {@code redis-server} is missing the tests are skipped, unless {@code IDE_PROXY_E2E_REQUIRED}
 * is set (CI), where they fail.
 */
public final class RedisServer implements AutoCloseable {
    private static final Duration READY = Duration.ofSeconds(20);

    private final String password;
    private final List<String> users;
    private final Path dir;
    private int port;
    private Process process;
    private Path log;
    private RedisClient adminClient;
    private StatefulRedisConnection<String, String> admin;

    private RedisServer(String password, List<String> users) throws IOException {
        this.password = password;
        this.users = users;
        this.dir = Files.createTempDirectory("ide-proxy-redis");
    }

    /** A server without a password. */
    public static RedisServer start() throws Exception {
        return start(null, List.of());
    }

    /**
     * A server whose default user has {@code password} (null: none) and with the ACL {@code users},
     * each a rule list as written after {@code ACL SETUSER} (e.g. {@code "app on >pw ~app:* +@all"}).
     */
    public static RedisServer start(String password, List<String> users) throws Exception {
        String binary = binary();
        if (binary == null) {
            if (isSet(System.getenv("IDE_PROXY_E2E_REQUIRED")) || isSet(System.getProperty("e2e.required"))) {
                fail("redis-server is not installed (Debian package redis-server) and IDE_PROXY_E2E_REQUIRED is set");
            }
            Assumptions.abort("redis-server is not installed (Debian package redis-server)");
        }
        RedisServer server = new RedisServer(password, users);
        server.startOnFreePort();
        return server;
    }

    /** Set, and not Maven's unresolved {@code ${env.…}} placeholder, "0" or "false". */
    private static boolean isSet(String value) {
        return value != null && !value.isBlank() && !value.startsWith("${") && !value.equals("0")
                && !value.equalsIgnoreCase("false");
    }

    private static String binary() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, "redis-server");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        for (String fixed : new String[] {"/usr/bin/redis-server", "/usr/sbin/redis-server"}) {
            if (Files.isExecutable(Path.of(fixed))) {
                return fixed;
            }
        }
        return null;
    }

    private void startOnFreePort() throws Exception {
        IOException last = null;
        for (int attempt = 0; attempt < 10; attempt++) {
            port = freePort();
            try {
                launch();
                return;
            } catch (IOException e) {
                last = e; // most likely someone took the port meanwhile: try another
            }
        }
        throw last;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Starts redis-server on {@link #port}; IOException when it did not come up. */
    private void launch() throws Exception {
        List<String> command = new ArrayList<>(List.of(binary(), "--port", Integer.toString(port),
                "--bind", "127.0.0.1", "--dir", dir.toString(), "--save", "", "--appendonly", "no",
                "--protected-mode", "no", "--daemonize", "no", "--loglevel", "notice"));
        if (password != null) {
            command.add("--requirepass");
            command.add(password);
        }
        for (String user : users) {
            command.add("--user");
            command.addAll(List.of(user.split(" ")));
        }
        log = dir.resolve("redis-" + port + "-" + System.nanoTime() + ".log");
        process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + READY.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("redis-server exited with " + process.exitValue() + ": " + logText());
            }
            if (logText().contains("Ready to accept connections") && answersPing()) {
                return;
            }
            Thread.sleep(20);
        }
        process.destroyForcibly();
        throw new IOException("redis-server did not start within " + READY.toSeconds() + " s: " + logText());
    }

    private boolean answersPing() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            socket.setSoTimeout(1000);
            OutputStream out = socket.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            int first = in.read();
            return first == '+' || first == '-'; // +PONG, or -NOAUTH: it answers
        } catch (IOException e) {
            return false;
        }
    }

    private String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:port}, with the default user's password when there is one. */
    public String uri() {
        return password == null ? "redis://127.0.0.1:" + port : "redis://" + password + "@127.0.0.1:" + port;
    }

    /** {@code redis://user:password@127.0.0.1:port}. */
    public String uri(String user, String userPassword) {
        return "redis://" + user + ":" + userPassword + "@127.0.0.1:" + port;
    }

    /** A connection as the default user, for the tests' own checks (PTTL, MEMORY USAGE...). */
    public synchronized RedisCommands<String, String> admin() {
        if (admin == null || !admin.isOpen()) {
            if (adminClient == null) {
                RedisURI uri = RedisURI.create(uri());
                uri.setTimeout(Duration.ofSeconds(10));
                adminClient = RedisClient.create(uri);
            }
            admin = adminClient.connect();
        }
        return admin.sync();
    }

    /** Stops the server as a crash would (SIGKILL): connections drop at once, nothing is saved. */
    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Starts the server again on the same port (empty: nothing was saved). */
    public void restart() throws Exception {
        stop();
        IOException last = null;
        for (int attempt = 0; attempt < 50; attempt++) {
            try {
                launch();
                return;
            } catch (IOException e) {
                last = e; // the port may take a moment to be free again
                Thread.sleep(200);
            }
        }
        throw last;
    }

    @Override
    public void close() throws Exception {
        if (admin != null) {
            admin.close();
        }
        if (adminClient != null) {
            adminClient.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        stop();
        try (var files = Files.walk(dir)) {
            files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temporary directory
        }
    }
}

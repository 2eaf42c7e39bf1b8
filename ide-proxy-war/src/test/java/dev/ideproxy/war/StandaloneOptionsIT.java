package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every wrong launcher option, given to {@code java -jar ide-proxy.war} as a real process: exit
 * status 2 and exactly one line on stderr, naming the option as it was set (docs/deployment.md).
 */
class StandaloneOptionsIT {
    static final String SECRET = "standalone-test-secret-0123456789abcdef";

    @TempDir
    Path dir;

    @Test
    void aPortThatIsNotANumber() throws Exception {
        assertRefused(configured("IDE_PROXY_STANDALONE_PORT", "abc"), List.of(),
                "ide-proxy cannot start: IDE_PROXY_STANDALONE_PORT: \"abc\" is not a port number (1-65535, or 0 for any free port)");
    }

    @Test
    void aPortOutOfRange() throws Exception {
        assertRefused(configured("IDE_PROXY_STANDALONE_PORT", "99999"), List.of(),
                "ide-proxy cannot start: IDE_PROXY_STANDALONE_PORT: \"99999\" is not a port number (1-65535, or 0 for any free port)");
    }

    @Test
    void aPortGivenAsSystemPropertyIsNamedSo() throws Exception {
        assertRefused(configured("IDE_PROXY_STANDALONE_PORT", "8000"), List.of("-Dide-proxy.standalone.port=-1"),
                "ide-proxy cannot start: ide-proxy.standalone.port: \"-1\" is not a port number (1-65535, or 0 for any free port)");
    }

    @Test
    void aPortAlreadyInUse() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            assertRefused(configured("IDE_PROXY_STANDALONE_PORT", Integer.toString(port)), List.of(),
                    "ide-proxy cannot start: IDE_PROXY_STANDALONE_PORT: port " + port + " on 127.0.0.1 is already in use");
        }
    }

    @Test
    void demoModeNeedsAFixedPort() throws Exception {
        assertRefused(Map.of("IDE_PROXY_STANDALONE_PORT", "0"), List.of(),
                "ide-proxy cannot start: IDE_PROXY_STANDALONE_PORT: demo mode needs a fixed port, not 0");
    }

    @Test
    void aContextPathWithoutItsLeadingSlash() throws Exception {
        assertRefused(configured("IDE_PROXY_STANDALONE_CONTEXT_PATH", "ide"), List.of(),
                "ide-proxy cannot start: IDE_PROXY_STANDALONE_CONTEXT_PATH: \"ide\" must start with '/' (e.g. /ide, or / for the root)");
        assertRefused(configured("IDE_PROXY_STANDALONE_CONTEXT_PATH", "/ide/"), List.of(),
                "ide-proxy cannot start: IDE_PROXY_STANDALONE_CONTEXT_PATH: \"/ide/\" must not end with '/' (e.g. /ide, or / for the root)");
    }

    @Test
    void aHostThatIsNotThisMachine() throws Exception {
        // 192.0.2.1: reserved for documentation (TEST-NET-1), never an address of this machine.
        assertRefused(configured("IDE_PROXY_STANDALONE_HOST", "192.0.2.1"), List.of(),
                "ide-proxy cannot start: IDE_PROXY_STANDALONE_HOST: \"192.0.2.1\" is not an address of this machine"
                        + " (127.0.0.1 for loopback only, 0.0.0.0 for every interface)");
    }

    @Test
    void aMistypedLauncherOption() throws Exception {
        assertRefused(configured("IDE_PROXY_STANDALONE_PROT", "9000"), List.of(),
                "ide-proxy cannot start: \"IDE_PROXY_STANDALONE_PROT\": unknown launcher option (known: IDE_PROXY_STANDALONE_HOST,"
                        + " IDE_PROXY_STANDALONE_PORT, IDE_PROXY_STANDALONE_CONTEXT_PATH, IDE_PROXY_STANDALONE_TLS_KEYSTORE,"
                        + " IDE_PROXY_STANDALONE_TLS_KEYSTORE_PASSWORD)");
    }

    @Test
    void anArgument() throws Exception {
        assertRefused(configured("IDE_PROXY_STANDALONE_PORT", "8000"), List.of(), List.of("--port=9000"),
                "ide-proxy cannot start: \"--port=9000\": java -jar ide-proxy.war takes no arguments; set options as"
                        + " environment variables or system properties (see docs/configuration.md)");
    }

    @Test
    void aTargetPortThatIsNotANumber() throws Exception {
        Map<String, String> env = configured("IDE_PROXY_STANDALONE_PORT", "8000");
        env.put("IDE_PROXY_TARGETS", "w1=http://127.0.0.1:notaport");
        assertRefused(env, List.of(), "ide-proxy cannot start: ide-proxy.targets: workspace 'w1':"
                + " target 'http://127.0.0.1:notaport': port 'notaport' is not a number");
    }

    @Test
    void demoModeWithTargetsThatLackTheDemoWorkspace() throws Exception {
        assertRefused(Map.of("IDE_PROXY_TARGETS", "w1=http://127.0.0.1:8080", "IDE_PROXY_STANDALONE_PORT", "8000"), List.of(),
                "ide-proxy cannot start: IDE_PROXY_TARGETS: demo mode (no ide-proxy.token.secret or"
                        + " ide-proxy.token.private-key) needs the workspace 'demo', e.g. demo=http://127.0.0.1:8080");
    }

    @Test
    void anUnwritableTemporaryDirectory() throws Exception {
        Path missing = dir.resolve("missing");
        assertRefused(configured("IDE_PROXY_STANDALONE_PORT", "8000"), List.of("-Djava.io.tmpdir=" + missing),
                "ide-proxy cannot start: java.io.tmpdir: cannot create a directory in \"" + missing
                        + "\" to unpack the WAR (NoSuchFileException)");
    }

    /** A complete non-demo configuration plus one launcher option. */
    private static Map<String, String> configured(String variable, String value) {
        Map<String, String> env = new HashMap<>(Map.of(
                "IDE_PROXY_TOKEN_SECRET", SECRET,
                "IDE_PROXY_AUTH_JWT_HS256_SECRET", SECRET,
                "IDE_PROXY_TARGETS", "w1=http://127.0.0.1:1"));
        env.put(variable, value);
        return env;
    }

    private void assertRefused(Map<String, String> env, List<String> jvmOptions, String line) throws Exception {
        assertRefused(env, jvmOptions, List.of(), line);
    }

    private void assertRefused(Map<String, String> env, List<String> jvmOptions, List<String> args, String line)
            throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx128m"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", StandaloneWarIT.WAR.toAbsolutePath().toString()));
        command.addAll(args);
        Path out = Files.createTempFile(dir, "stdout", ".txt");
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("IDE_PROXY_"));
        pb.environment().putAll(env);
        Process process = pb.start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("still running after 60 s, expected a refusal:\n" + read(out) + read(err));
        }
        String stdout = read(out);
        String stderr = read(err);
        assertEquals(List.of(line), stderr.lines().toList(), "stderr (stdout was:\n" + stdout + ")");
        assertEquals(2, process.exitValue(), stderr);
        assertFalse(stdout.contains("\tat ") || stdout.contains("Exception"), "no stack trace expected:\n" + stdout);
        assertTrue(stdout.lines().noneMatch(l -> l.startsWith("ide-proxy listening")), stdout);
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }
}

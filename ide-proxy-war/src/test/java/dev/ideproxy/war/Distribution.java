package dev.ideproxy.war;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real servlet container distribution, unpacked from the local Maven repository by the build,
 * into which the WAR is deployed unmodified and configured the container's usual way: a Tomcat
 * context file with {@code <Parameter>}s, a Jetty context XML with {@code setInitParameter}.
 */
enum Distribution {
    /** {@code java -jar ide-proxy.war}: embedded Jetty, configured through environment variables. */
    STANDALONE(null),
    TOMCAT_11("dist.tomcat11"),
    TOMCAT_10_1("dist.tomcat10"),
    JETTY_12("dist.jetty12");

    private final String property;

    Distribution(String property) {
        this.property = property;
    }

    Path home() {
        String value = System.getProperty(property);
        if (value == null) {
            throw new IllegalStateException("system property " + property + " is not set (run through Maven: mvn verify)");
        }
        return Path.of(value);
    }

    /**
     * Deploys {@code war} at {@code contextPath} with the given context parameters, starts the
     * container on a free loopback port and waits until the application answers. {@code {port}} in a
     * parameter's value is replaced by that port.
     */
    Running start(Path war, String contextPath, Map<String, String> configuration, Path workDir) throws Exception {
        return start(war, contextPath, configuration, workDir, freePort());
    }

    /** As {@link #start(Path, String, Map, Path)} on a given port: a restart on the port the browser knows. */
    Running start(Path war, String contextPath, Map<String, String> configuration, Path workDir, int port) throws Exception {
        // "{port}" in a value stands for the port the container gets (e.g. host mode's workspace.origin).
        Map<String, String> params = new java.util.LinkedHashMap<>();
        configuration.forEach((k, v) -> params.put(k, v.replace("{port}", Integer.toString(port))));
        Path base = Files.createDirectories(workDir.resolve(name().toLowerCase() + "-" + port));
        String name = contextPath.substring(1);
        ProcessBuilder pb;
        if (this == STANDALONE) {
            pb = new ProcessBuilder(java(), "-Xmx384m", "-jar", war.toAbsolutePath().toString());
            pb.environment().keySet().removeIf(k -> k.startsWith("IDE_PROXY_"));
            params.forEach((k, v) -> pb.environment().put(k.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_'), v));
            pb.environment().put("IDE_PROXY_STANDALONE_PORT", Integer.toString(port));
            pb.environment().put("IDE_PROXY_STANDALONE_CONTEXT_PATH", contextPath);
            Running running = new Running(this, pb.directory(base.toFile()).redirectErrorStream(true).start(),
                    URI.create("http://127.0.0.1:" + port + contextPath));
            running.awaitReady();
            return running;
        } else if (this == JETTY_12) {
            Path home = home();
            run(new ProcessBuilder(java(), "-jar", home.resolve("start.jar").toString(), "jetty.home=" + home,
                    "jetty.base=" + base, "--add-modules=http,ee10-deploy,ee10-websocket-jakarta").directory(base.toFile()));
            Files.copy(war, base.resolve("webapps").resolve(name + ".war"), StandardCopyOption.REPLACE_EXISTING);
            StringBuilder xml = new StringBuilder("""
                    <?xml version="1.0"?>
                    <!DOCTYPE Configure PUBLIC "-//Jetty//Configure//EN" "configure_10_0.dtd">
                    <Configure class="org.eclipse.jetty.ee10.webapp.WebAppContext">
                    """);
            xml.append("  <Set name=\"contextPath\">").append(contextPath).append("</Set>\n");
            xml.append("  <Set name=\"war\"><Property name=\"jetty.webapps\"/>/").append(name).append(".war</Set>\n");
            params.forEach((k, v) -> xml.append("  <Call name=\"setInitParameter\"><Arg>").append(k).append("</Arg><Arg>")
                    .append(escape(v)).append("</Arg></Call>\n"));
            xml.append("</Configure>\n");
            Files.writeString(base.resolve("webapps").resolve(name + ".xml"), xml);
            pb = new ProcessBuilder(java(), "-Xmx384m", "-jar", home.resolve("start.jar").toString(), "jetty.home=" + home,
                    "jetty.base=" + base, "jetty.http.host=127.0.0.1", "jetty.http.port=" + port,
                    "jetty.deploy.scanInterval=1"); // hot redeploy on a changed context XML (off by default in 12.1)
        } else {
            Path home = home();
            for (String dir : List.of("logs", "temp", "work", "webapps", "conf/Catalina/localhost")) {
                Files.createDirectories(base.resolve(dir));
            }
            try (Stream<Path> conf = Files.list(home.resolve("conf"))) {
                for (Path f : conf.filter(Files::isRegularFile).toList()) {
                    Files.copy(f, base.resolve("conf").resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Path serverXml = base.resolve("conf/server.xml");
            String server = Files.readString(serverXml)
                    .replace("<Server port=\"8005\"", "<Server port=\"-1\"")
                    .replace("<Connector port=\"8080\"", "<Connector address=\"127.0.0.1\" port=\"" + port + "\"")
                    // autoDeploy checks every second, not 10: a touched context file redeploys at once.
                    .replace("<Engine name=\"Catalina\" defaultHost=\"localhost\">",
                            "<Engine name=\"Catalina\" defaultHost=\"localhost\" backgroundProcessorDelay=\"1\">");
            Files.writeString(serverXml, server);
            Files.copy(war, base.resolve("webapps").resolve(name + ".war"), StandardCopyOption.REPLACE_EXISTING);
            StringBuilder xml = new StringBuilder("<Context>\n");
            params.forEach((k, v) -> xml.append("  <Parameter name=\"").append(k).append("\" value=\"").append(escape(v))
                    .append("\" override=\"false\"/>\n"));
            xml.append("</Context>\n");
            Files.writeString(base.resolve("conf/Catalina/localhost").resolve(name + ".xml"), xml);
            pb = new ProcessBuilder(java(), "-Xmx384m",
                    // As catalina.sh opens them: without, Tomcat cannot check for ThreadLocal and RMI leaks.
                    "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                    "--add-opens=java.base/java.io=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED", "--add-opens=java.rmi/sun.rmi.transport=ALL-UNNAMED",
                    "-Dcatalina.home=" + home, "-Dcatalina.base=" + base, "-Djava.io.tmpdir=" + base.resolve("temp"),
                    "-Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager",
                    "-Djava.util.logging.config.file=" + base.resolve("conf/logging.properties"),
                    "-cp", home.resolve("bin/bootstrap.jar") + java.io.File.pathSeparator + home.resolve("bin/tomcat-juli.jar"),
                    "org.apache.catalina.startup.Bootstrap", "start");
        }
        pb.directory(base.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("IDE_PROXY_"));
        Running running = new Running(this, pb.start(), URI.create("http://127.0.0.1:" + port + contextPath));
        running.awaitReady();
        return running;
    }

    /** The documented snippets {@link #startAsDocumented} uses; {@code DocSnippetsTest} checks every block is one of them. */
    static final List<String> DOCUMENTED_SNIPPETS = List.of(
            "tomcat-install", "tomcat-context", "tomcat-start", "tomcat-server-xml", "tomcat-harden",
            "jetty-install", "jetty-context", "jetty-start", "jetty-harden", "jetty-hardening-ini");

    /** The placeholders of docs/deployment.md that the tests replace, and nothing else. */
    static final String WAR_PLACEHOLDER = "/path/to/ide-proxy.war";
    static final String TOKEN_SECRET_PLACEHOLDER = "\u202648 random bytes, base64\u2026";
    static final String PORTAL_SECRET_PLACEHOLDER = "\u2026your portal's HS256 secret\u2026";
    static final String JETTY_HOME_PLACEHOLDER = "/path/to/jetty-home-12.1.12";

    /**
     * Deploys {@code war} at {@code /ide} exactly as docs/deployment.md shows, install and hardening,
     * every block as written: shell blocks run through {@code bash -c}, file blocks written where the
     * docs say. Only the documented placeholders change: the WAR's path, the two secrets, Jetty's home
     * and the port (8080 becomes a free one). Further options come from {@code environment}
     * ({@code IDE_PROXY_*}), which the docs name as the way to override the context file.
     */
    Running startAsDocumented(Path war, String tokenSecret, String portalSecret, Map<String, String> environment,
            Path workDir) throws Exception {
        int port = freePort();
        Path dir = Files.createDirectories(workDir.resolve(name().toLowerCase() + "-" + port));
        Map<String, String> env = new java.util.LinkedHashMap<>(environment);
        env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + java.io.File.pathSeparator + System.getenv("PATH"));
        env.put("JAVA_HOME", System.getProperty("java.home"));
        Map<String, String> secrets = Map.of(TOKEN_SECRET_PLACEHOLDER, tokenSecret, PORTAL_SECRET_PLACEHOLDER, portalSecret);
        Map<String, String> warPath = Map.of(WAR_PLACEHOLDER, war.toAbsolutePath().toString());
        Map<String, String> listen = Map.of("8080", Integer.toString(port));
        ProcessBuilder pb;
        Path logs;
        if (this == JETTY_12) {
            env.put("JETTY_HOME", home().toString());   // the install block's "export JETTY_HOME=..." in the reader's shell
            env.put("JDK_JAVA_OPTIONS", "-Xmx384m");
            Map<String, String> install = new java.util.LinkedHashMap<>(warPath);
            install.put(JETTY_HOME_PLACEHOLDER, home().toString());
            shell(DocSnippets.snippet("jetty-install", install), dir, env);
            Path base = dir.resolve("ide-base");
            Files.writeString(base.resolve("webapps/ide.xml"), DocSnippets.snippet("jetty-context", secrets));
            shell(DocSnippets.snippet("jetty-harden"), base, env);
            Files.writeString(base.resolve("start.d/hardening.ini"), DocSnippets.snippet("jetty-hardening-ini"));
            pb = bash(DocSnippets.snippet("jetty-start", Map.of("jetty.http.port=8080", "jetty.http.port=" + port)), base, env);
            logs = base.resolve("logs");
        } else if (this == TOMCAT_11 || this == TOMCAT_10_1) {
            Path home = dir.resolve(home().getFileName());   // a fresh copy of the unpacked distribution
            run(new ProcessBuilder("cp", "-a", home().toString(), home.toString()));
            env.put("JAVA_OPTS", "-Xmx384m");
            shell(DocSnippets.snippet("tomcat-install", warPath), home, env);
            Files.writeString(home.resolve("conf/Catalina/localhost/ide.xml"), DocSnippets.snippet("tomcat-context", secrets));
            Files.writeString(home.resolve("conf/server.xml"),
                    DocSnippets.snippet("tomcat-server-xml", Map.of("port=\"8080\"", "port=\"" + port + "\"")));
            shell(DocSnippets.snippet("tomcat-harden"), home, env);
            pb = bash(DocSnippets.snippet("tomcat-start"), home, env);
            logs = home.resolve("logs");
        } else {
            throw new UnsupportedOperationException(this + " has no documented container deployment");
        }
        Running running = new Running(this, pb.redirectErrorStream(true).start(), URI.create("http://127.0.0.1:" + port + "/ide"), logs);
        running.awaitReady();
        return running;
    }

    /** A {@code bash -c} of {@code script} in {@code dir}, with the test's environment and no inherited ide-proxy or container settings. */
    private static ProcessBuilder bash(String script, Path dir, Map<String, String> env) {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", script).directory(dir.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("IDE_PROXY_") || k.startsWith("CATALINA_") || k.startsWith("JETTY_")
                || k.equals("JAVA_OPTS") || k.equals("JAVA_TOOL_OPTIONS"));
        pb.environment().putAll(env);
        return pb;
    }

    /** Runs a documented shell block to completion; it must succeed. */
    private static void shell(String script, Path dir, Map<String, String> env) throws Exception {
        run(bash("set -e\n" + script, dir, env));
    }

    private static String escape(String v) {
        return v.replace("&", "&amp;").replace("<", "&lt;").replace("\"", "&quot;");
    }

    private static void run(ProcessBuilder pb) throws Exception {
        Process p = pb.redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("command failed: " + pb.command() + "\n" + out);
        }
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** A started container process. */
    static final class Running implements AutoCloseable {
        final Distribution kind;
        final Process process;
        final URI base;
        final List<String> output;
        /** The container's log directory, when started {@link #startAsDocumented as documented}; else null. */
        final Path logs;

        Running(Distribution kind, Process process, URI base) {
            this(kind, process, base, null);
        }

        Running(Distribution kind, Process process, URI base, Path logs) {
            this.kind = kind;
            this.process = process;
            this.base = base;
            this.logs = logs;
            this.output = new ProcessLog(process, kind.name()).lines();
        }

        URI uri(String path) {
            return URI.create(base + path);
        }

        String hostHeader() {
            return base.getHost() + ":" + base.getPort();
        }

        /** Waits until the mint endpoint answers (405 to a GET), or fails with the container's output. */
        void awaitReady() throws Exception {
            HttpClient http = HttpClient.newHttpClient();
            // Generous: on a busy 2-core machine a container with the WAR has taken over 90 s to start.
            long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
            while (System.nanoTime() < deadline && process.isAlive()) {
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri("/api/dev/probe/ide-token"))
                            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 405) {
                        return;
                    }
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(250);
            }
            close();
            throw new AssertionError(kind + " did not serve ide-proxy:\n" + String.join("\n", output));
        }

        @Override
        public void close() throws InterruptedException {
            // A documented start may run the container's JVM under bash: stop it too, and wait until it
            // has ended, so that its logs are complete.
            List<ProcessHandle> children = process.descendants().toList();
            children.forEach(ProcessHandle::destroy);
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            for (ProcessHandle child : children) {
                try {
                    child.onExit().get(20, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    child.destroyForcibly();
                }
            }
        }
    }
}

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
        int port = freePort();
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
                    <!DOCTYPE Configure PUBLIC "-//Jetty//Configure//EN" "https://jetty.org/configure_10_0.dtd">
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

        Running(Distribution kind, Process process, URI base) {
            this.kind = kind;
            this.process = process;
            this.base = base;
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
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}

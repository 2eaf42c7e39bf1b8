package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import java.io.File;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The diagnostics page ({@code /__ide/{id}/.ide-proxy/diagnose}) in headless Chromium, with a plain
 * HTTP upstream standing in for the IDE: every check green through the proxy (and the session check
 * red once the cookie is gone); behind an nginx that does not pass WebSocket upgrades on, the
 * WebSocket check red with the advice for that, every other check green; in host mode, green on the
 * workspace's own origin. Screenshots go to {@code target/screenshots/}.
 */
class DiagnosticsBrowserIT {
    static final Path NGINX = Path.of("/usr/sbin/nginx");
    static final Duration UI = Duration.ofSeconds(60);
    static final List<String> CHECKS = List.of("secure-context", "session", "request", "websocket", "upstream", "clock");

    @TempDir
    Path work;

    @ParameterizedTest
    @EnumSource(value = Distribution.class, names = {"STANDALONE", "TOMCAT_11"})
    void everyCheckIsGreenThroughTheProxy(Distribution distribution) throws Exception {
        requireTools(false);
        try (TestUpstream upstream = new TestUpstream();
             Distribution.Running proxy = distribution.start(StandaloneWarIT.WAR, "/ide", configuration(upstream, null), work)) {
            WebDriver browser = browser();
            try {
                browser.get(proxy.base + bootstrapPath(proxy, "one"));
                await(browser, b -> b.getCurrentUrl().endsWith("/ide/__ide/one/"), "the redirect into the tunnel");
                browser.get(proxy.base + "/__ide/one/.ide-proxy/diagnose");
                Map<String, String> results = awaitResults(browser);
                screenshot(browser, distribution, "diagnose-green");
                for (String check : CHECKS) {
                    assertEquals("pass", status(results, check), check + " is not green:\n" + describe(results));
                }
                assertTrue(text(browser, "summary").startsWith("All 6 checks passed"), text(browser, "summary"));
                assertTrue(text(browser, "report").contains("[PASS] WebSocket round trip"), text(browser, "report"));

                // Without the cookie the page still loads, and says what is wrong.
                browser.manage().deleteAllCookies();
                browser.navigate().refresh();
                results = awaitResults(browser);
                screenshot(browser, distribution, "diagnose-no-session");
                assertEquals("fail", status(results, "session"), describe(results));
                assertTrue(results.get("session").contains("Open the IDE again from the portal"), describe(results));
                for (String check : List.of("request", "websocket", "upstream")) {
                    assertEquals("skipped", status(results, check), describe(results));
                }
                assertEquals("pass", status(results, "secure-context"), describe(results));
                assertEquals("pass", status(results, "clock"), describe(results));
            } catch (AssertionError | RuntimeException e) {
                screenshot(browser, distribution, "diagnose-failure");
                throw new AssertionError(e.getMessage() + "\n--- proxy:\n" + tail(String.join("\n", proxy.output)), e);
            } finally {
                browser.quit();
            }
        }
    }

    /**
     * nginx in front of the proxy, configured as many are by mistake: {@code proxy_pass} without
     * {@code proxy_http_version 1.1} and the {@code Upgrade}/{@code Connection} headers, so a WebSocket
     * handshake reaches the proxy as a plain GET. It passes the browser's Host, so that only the
     * WebSocket is broken.
     */
    @ParameterizedTest
    @EnumSource(value = Distribution.class, names = {"STANDALONE"})
    void behindAnNginxThatDropsUpgradesTheWebSocketCheckIsRed(Distribution distribution) throws Exception {
        requireTools(true);
        try (TestUpstream upstream = new TestUpstream();
             Distribution.Running proxy = distribution.start(StandaloneWarIT.WAR, "/ide", configuration(upstream, null), work);
             Nginx nginx = new Nginx(work.resolve("nginx"), proxy.base.getPort())) {
            WebDriver browser = browser();
            String front = "http://127.0.0.1:" + nginx.port + "/ide";
            try {
                browser.get(front + bootstrapPath(proxy, "one"));
                await(browser, b -> b.getCurrentUrl().equals(front + "/__ide/one/"), "the redirect into the tunnel, through nginx");
                browser.get(front + "/__ide/one/.ide-proxy/diagnose");
                Map<String, String> results = awaitResults(browser);
                screenshot(browser, distribution, "diagnose-nginx-without-upgrade");
                assertEquals("fail", status(results, "websocket"), describe(results));
                String websocket = results.get("websocket");
                assertTrue(websocket.contains("refuses WebSocket connections") && websocket.contains("does not pass WebSocket"
                        + " upgrades on") && websocket.contains("proxy_set_header Upgrade $http_upgrade"), websocket);
                for (String check : List.of("secure-context", "session", "request", "upstream", "clock")) {
                    assertEquals("pass", status(results, check), check + ":\n" + describe(results));
                }
                assertTrue(text(browser, "summary").startsWith("5 of 6 checks passed"), text(browser, "summary"));
            } catch (AssertionError | RuntimeException e) {
                screenshot(browser, distribution, "diagnose-nginx-failure");
                throw new AssertionError(e.getMessage() + "\n--- nginx:\n" + nginx.log() + "\n--- proxy:\n"
                        + tail(String.join("\n", proxy.output)), e);
            } finally {
                browser.quit();
            }
        }
    }

    /** Host mode: the page runs on {@code one.localhost} (Chromium resolves every {@code *.localhost} to loopback). */
    @ParameterizedTest
    @EnumSource(value = Distribution.class, names = {"STANDALONE"})
    void inHostModeThePageWorksOnTheWorkspacesOwnOrigin(Distribution distribution) throws Exception {
        requireTools(false);
        try (TestUpstream upstream = new TestUpstream();
             Distribution.Running proxy = distribution.start(StandaloneWarIT.WAR, "/ide",
                     configuration(upstream, "http://{id}.localhost:{port}"), work)) {
            WebDriver browser = browser();
            String origin = "http://one.localhost:" + proxy.base.getPort();
            try {
                String link = bootstrapUrl(proxy, "one");
                assertTrue(link.startsWith(origin + "/ide/api/dev/one/ide?token="), link);
                browser.get(link);
                await(browser, b -> b.getCurrentUrl().equals(origin + "/ide/__ide/one/"), "the redirect into the tunnel");
                browser.get(origin + "/ide/__ide/one/.ide-proxy/diagnose");
                Map<String, String> results = awaitResults(browser);
                screenshot(browser, distribution, "diagnose-host-mode");
                assertEquals("one.localhost", ((JavascriptExecutor) browser).executeScript("return location.hostname"));
                for (String check : CHECKS) {
                    assertEquals("pass", status(results, check), check + " is not green:\n" + describe(results));
                }
                assertTrue(text(browser, "seen").contains("one.localhost:" + proxy.base.getPort()), text(browser, "seen"));
            } catch (AssertionError | RuntimeException e) {
                screenshot(browser, distribution, "diagnose-host-mode-failure");
                throw new AssertionError(e.getMessage() + "\n--- proxy:\n" + tail(String.join("\n", proxy.output)), e);
            } finally {
                browser.quit();
            }
        }
    }

    private static Map<String, String> configuration(TestUpstream upstream, String workspaceOrigin) {
        Map<String, String> configuration = new LinkedHashMap<>();
        configuration.put("ide-proxy.token.secret", CodeServerBrowserIT.SECRET);
        configuration.put("ide-proxy.auth.jwt.hs256-secret", CodeServerBrowserIT.PORTAL_SECRET);
        configuration.put("ide-proxy.targets", "one=" + upstream.uri());
        if (workspaceOrigin != null) {
            configuration.put("ide-proxy.workspace.origin", workspaceOrigin);
        }
        return configuration;
    }

    // ---------------------------------------------------------------- the page

    /** Waits until the page has run every check; answers each check's status and texts, by name. */
    private static Map<String, String> awaitResults(WebDriver browser) {
        await(browser, b -> "true".equals(((JavascriptExecutor) b).executeScript(
                "var s = document.getElementById('summary'); return s && s.dataset.done;")), "the checks to finish");
        @SuppressWarnings("unchecked")
        Map<String, String> results = (Map<String, String>) ((JavascriptExecutor) browser).executeScript(
                "var out = {};"
                        + "document.querySelectorAll('.check').forEach(function (c) {"
                        + "  out[c.id.substring(6)] = c.dataset.status + ' | ' + c.querySelector('.result').textContent"
                        + "    + ' | ' + c.querySelector('.fix').textContent; });"
                        + "return out;");
        return results;
    }

    private static String status(Map<String, String> results, String check) {
        String result = results.get(check);
        return result == null ? "missing" : result.substring(0, result.indexOf(" | "));
    }

    private static String describe(Map<String, String> results) {
        StringBuilder sb = new StringBuilder();
        results.forEach((name, result) -> sb.append(name).append(": ").append(result).append('\n'));
        return sb.toString();
    }

    private static String text(WebDriver browser, String id) {
        return String.valueOf(((JavascriptExecutor) browser).executeScript(
                "return document.getElementById(arguments[0]).textContent;", id));
    }

    // ---------------------------------------------------------------- the portal's side

    private static String bootstrapUrl(Distribution.Running proxy, String workspace) throws Exception {
        Matcher m = Pattern.compile("\"bootstrapUrl\":\"([^\"]+)\"").matcher(mint(proxy, workspace));
        assertTrue(m.find());
        return m.group(1);
    }

    /** The bootstrap path after the context path, as a path-mode mint answers it. */
    private static String bootstrapPath(Distribution.Running proxy, String workspace) throws Exception {
        String url = bootstrapUrl(proxy, workspace);
        assertTrue(url.startsWith("/ide/api/dev/"), url);
        return url.substring("/ide".length());
    }

    private static String mint(Distribution.Running proxy, String workspace) throws Exception {
        String bearer = JWT.create().withSubject("alice").withArrayClaim("workspaces", new String[] {workspace})
                .withExpiresAt(Instant.now().plusSeconds(60)).sign(Algorithm.HMAC256(CodeServerBrowserIT.PORTAL_SECRET));
        HttpResponse<String> minted = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(proxy.uri("/api/dev/" + workspace + "/ide-token"))
                        .header("Authorization", "Bearer " + bearer).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, minted.statusCode(), minted.body());
        return minted.body();
    }

    // ---------------------------------------------------------------- tools

    private static void requireTools(boolean nginx) {
        boolean required = "1".equals(System.getProperty("e2e.required")) || "true".equals(System.getProperty("e2e.required"));
        String missing = !Files.isExecutable(CodeServerBrowserIT.CHROMIUM) || !Files.isExecutable(CodeServerBrowserIT.CHROMEDRIVER)
                ? "chromium and chromium-driver" : nginx && !Files.isExecutable(NGINX) ? "nginx (/usr/sbin/nginx)" : null;
        if (missing != null) {
            if (required) {
                throw new AssertionError("browser tests need " + missing);
            }
            Assumptions.abort("browser tests skipped: " + missing + " not installed");
        }
    }

    private WebDriver browser() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CodeServerBrowserIT.CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1100,1300", "--user-data-dir=" + work.resolve("chromium"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CodeServerBrowserIT.CHROMEDRIVER.toString())).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    private static void await(WebDriver browser, java.util.function.Function<WebDriver, Boolean> condition, String what) {
        new WebDriverWait(browser, UI).withMessage(() -> "waiting for " + what).until(condition::apply);
    }

    private static void screenshot(WebDriver browser, Distribution distribution, String name) {
        try {
            Path dir = Files.createDirectories(Path.of("target", "screenshots"));
            File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
            Files.copy(shot.toPath(), dir.resolve(distribution.name().toLowerCase() + "-" + name + ".png"),
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (Exception e) {
            System.err.println("screenshot failed: " + e);
        }
    }

    private static String tail(String text) {
        return text.length() <= 4000 ? text : text.substring(text.length() - 4000);
    }

    /** nginx on a loopback port with a config and prefix of its own, in front of the proxy. */
    static final class Nginx implements AutoCloseable {
        final int port;
        private final Process process;
        private final ProcessLog output;

        Nginx(Path prefix, int proxyPort) throws Exception {
            Files.createDirectories(prefix.resolve("temp"));
            port = Distribution.freePort();
            String conf = """
                    worker_processes 1;
                    daemon off;
                    pid %1$s/nginx.pid;
                    error_log stderr warn;
                    events { worker_connections 64; }
                    http {
                        access_log off;
                        client_body_temp_path %1$s/temp/body;
                        proxy_temp_path %1$s/temp/proxy;
                        fastcgi_temp_path %1$s/temp/fastcgi;
                        uwsgi_temp_path %1$s/temp/uwsgi;
                        scgi_temp_path %1$s/temp/scgi;
                        server {
                            listen 127.0.0.1:%2$d;
                            location / {
                                # The mistake under test: no proxy_http_version 1.1, no Upgrade/Connection headers.
                                proxy_pass http://127.0.0.1:%3$d;
                                proxy_set_header Host $http_host;
                            }
                        }
                    }
                    """.formatted(prefix, port, proxyPort);
            Path file = prefix.resolve("nginx.conf");
            Files.writeString(file, conf);
            process = new ProcessBuilder(NGINX.toString(), "-p", prefix.toString(), "-c", file.toString())
                    .redirectErrorStream(true).start();
            output = new ProcessLog(process, "nginx");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (true) {
                try (Socket probe = new Socket("127.0.0.1", port)) {
                    return;
                } catch (java.io.IOException notYet) {
                    if (!process.isAlive() || System.nanoTime() > deadline) {
                        close();
                        throw new AssertionError("nginx did not start:\n" + output);
                    }
                    Thread.sleep(100);
                }
            }
        }

        String log() {
            return output.toString();
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}

package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chromium.ChromiumDriver;

/**
 * Issue 13's proofs with a real code-server in headless Chromium, through {@code java -jar ide-proxy.war}:
 * code-server killed and started again on its port; the proxy drained (SIGTERM) during a 1 GiB download
 * and an open terminal, then started again with the same keys. A script injected before the
 * workbench loads records each WebSocket's close code and each open, so that the tests can say which
 * codes the page saw and how long the workbench took to come back. Screenshots go to
 * {@code target/screenshots/}.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class IdeRestartBrowserIT {
    static final long GIB = 1L << 30;

    /**
     * Wraps {@code window.WebSocket} so that each close event's code lands in
     * {@code window.__ideProxyCloses} and each open's time in {@code window.__ideProxyOpens}.
     */
    static final String RECORD_WEBSOCKETS = """
            (() => {
              const Native = window.WebSocket;
              window.__ideProxyCloses = [];
              window.__ideProxyOpens = [];
              window.WebSocket = new Proxy(Native, {
                construct(target, args) {
                  const ws = Reflect.construct(target, args);
                  ws.addEventListener('open', () => window.__ideProxyOpens.push(Date.now()));
                  ws.addEventListener('close', e => window.__ideProxyCloses.push({code: e.code, at: Date.now()}));
                  return ws;
                }
              });
            })();
            """;

    @TempDir
    Path work;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(5)).build();

    /**
     * Proof 1: code-server is killed (SIGKILL, its whole process tree) mid-session and started again on
     * the same port. While it is down a navigation gets the 502 page that retries by itself. The new
     * code-server does not know the workbench's reconnection token, so the workbench says "Cannot
     * reconnect" and offers to reload; the reload works through the proxy with the same cookie (no new
     * bootstrap), and a terminal command works afterwards.
     */
    @Test
    void codeServerKilledAndStartedAgain() throws Exception {
        CodeServerBrowserIT.requireTools();
        Path project = project("killed-marker.txt");
        int idePort = Distribution.freePort();
        Path home = Files.createDirectories(work.resolve("cs"));
        Future<CodeServer> starting = startInBackground(home, project, idePort);
        CodeServer ide = null;
        try (Distribution.Running proxy = Distribution.STANDALONE.start(StandaloneWarIT.WAR, "/ide",
                configuration("one=http://127.0.0.1:" + idePort), work)) {
            ide = starting.get(3, TimeUnit.MINUTES);
            WebDriver browser = browser();
            try {
                open(browser, proxy);
                Cookie cookie = browser.manage().getCookieNamed("ide_proxy_session");
                CodeServerBrowserIT.awaitExplorerShows(browser, "killed-marker.txt");
                CodeServerBrowserIT.openTerminal(browser);
                CodeServerBrowserIT.runInTerminal(browser, "echo before-$((6*7))", "before-42");

                ide.kill();
                long killed = System.nanoTime();
                // A navigation while the IDE is down: a 502 page that reloads itself; JSON for a script.
                HttpResponse<String> page = http.send(HttpRequest.newBuilder(proxy.uri("/__ide/one/"))
                        .header("Cookie", cookie.getName() + "=" + cookie.getValue()).header("Accept", "text/html")
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(502, page.statusCode(), page.body());
                assertEquals("5", page.headers().firstValue("Retry-After").orElse(null));
                assertTrue(page.body().contains("<meta http-equiv=\"refresh\" content=\"5\">"), page.body());
                HttpResponse<String> json = http.send(HttpRequest.newBuilder(proxy.uri("/__ide/one/stable/x.json"))
                        .header("Cookie", cookie.getName() + "=" + cookie.getValue()).header("Accept", "application/json")
                        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(502, json.statusCode(), json.body());
                assertTrue(json.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), json.body());
                assertEquals("5", json.headers().firstValue("Retry-After").orElse(null));

                ide = new CodeServer(home, project, idePort);
                long restarted = System.nanoTime();
                // The workbench keeps trying (VS Code: after 0, 5, 5, 10, 10... s); the new code-server refuses
                // its old reconnection token, and the workbench asks for a reload.
                CodeServerBrowserIT.await(browser, b -> reloadButton(b) != null, "the workbench's \"Reload Window\" offer");
                String message = dialogText(browser);
                System.out.printf("code-server killed: the workbench says \"%s\" %.1f s after code-server was back"
                                + " (%.1f s after the kill); close codes seen: %s%n", message.replace('\n', ' '),
                        seconds(restarted), seconds(killed), closeCodes(browser));
                CodeServerBrowserIT.screenshot(browser, "ide-restart-cannot-reconnect");
                assertTrue(message.contains("Cannot reconnect"), message);
                reloadButton(browser).click();

                long reload = System.nanoTime();
                CodeServerBrowserIT.awaitExplorerShows(browser, "killed-marker.txt");
                assertTrue(browser.getCurrentUrl().contains("/ide/__ide/one/"), browser.getCurrentUrl());
                assertEquals(cookie.getValue(), browser.manage().getCookieNamed("ide_proxy_session").getValue(),
                        "the reload used the same session cookie");
                awaitTerminal(browser);
                CodeServerBrowserIT.runInTerminal(browser, "echo after-$((6*7))", "after-42");
                System.out.printf("code-server killed: after the reload, the workbench and a terminal worked in %.1f s%n",
                        seconds(reload));
                CodeServerBrowserIT.screenshot(browser, "ide-restart-after-reload");
            } catch (AssertionError | RuntimeException e) {
                CodeServerBrowserIT.screenshot(browser, "ide-restart-failure");
                throw new AssertionError(e.getMessage() + "\n--- code-server:\n" + CodeServerBrowserIT.tail(ide.output())
                        + "\n--- proxy:\n" + CodeServerBrowserIT.tail(String.join("\n", proxy.output)), e);
            } finally {
                browser.quit();
            }
        } finally {
            close(ide, starting);
        }
    }

    /**
     * Proofs 2 and 3: SIGTERM drains the standalone proxy while a Java client downloads 1 GiB through it
     * from a plain HTTP workspace and a code-server tab has a terminal open. The download completes, every
     * byte of it; the page's WebSockets close with 1012; the process exits by itself once the download is
     * done. Started again on its port with the same keys from the environment, the tab reconnects by
     * itself: without a reload (code-server kept running and knows the workbench's reconnection token)
     * and without a new bootstrap (the cookie is still valid), and the terminal works.
     */
    @Test
    void proxyDrainedDuringADownloadAndATerminalThenRestarted() throws Exception {
        CodeServerBrowserIT.requireTools();
        Path project = project("drained-marker.txt");
        int port = Distribution.freePort();
        int idePort = Distribution.freePort();
        HttpServer files = bigFileServer();
        Future<CodeServer> starting = startInBackground(Files.createDirectories(work.resolve("cs")), project, idePort);
        CodeServer ide = null;
        try {
            Map<String, String> configuration = configuration(
                    "one=http://127.0.0.1:" + idePort + ",files=http://127.0.0.1:" + files.getAddress().getPort());
            Distribution.Running proxy = Distribution.STANDALONE.start(StandaloneWarIT.WAR, "/ide", configuration, work, port);
            ide = starting.get(3, TimeUnit.MINUTES);
            WebDriver browser = browser();
            try {
                open(browser, proxy);
                Cookie cookie = browser.manage().getCookieNamed("ide_proxy_session");
                CodeServerBrowserIT.awaitExplorerShows(browser, "drained-marker.txt");
                CodeServerBrowserIT.openTerminal(browser);
                CodeServerBrowserIT.runInTerminal(browser, "echo before-$((6*7))", "before-42");
                markPage(browser);

                // The download, by a plain Java client with its own session for workspace "files".
                HttpResponse<Void> boot = http.send(HttpRequest.newBuilder(proxy.uri(
                        CodeServerBrowserIT.bootstrapPath(proxy, "files"))).build(), HttpResponse.BodyHandlers.discarding());
                assertEquals(303, boot.statusCode());
                String setCookie = boot.headers().firstValue("Set-Cookie").orElseThrow();
                HttpResponse<InputStream> download = http.send(HttpRequest.newBuilder(proxy.uri("/__ide/files/big"))
                        .header("Cookie", setCookie.substring(0, setCookie.indexOf(';'))).build(),
                        HttpResponse.BodyHandlers.ofInputStream());
                assertEquals(200, download.statusCode());
                CountDownLatch started = new CountDownLatch(1);
                CountDownLatch draining = new CountDownLatch(1);
                AtomicLong received = new AtomicLong();
                AtomicLong finished = new AtomicLong();
                AtomicReference<Throwable> failed = new AtomicReference<>();
                Thread reader = new Thread(() -> {
                    byte[] buffer = new byte[1 << 16];
                    try (InputStream in = download.body()) {
                        for (int n; (n = in.read(buffer)) >= 0; ) {
                            if (received.addAndGet(n) >= 16 << 20 && started.getCount() > 0) {
                                started.countDown();
                                draining.await(); // the rest is read while the proxy drains
                            }
                        }
                    } catch (Throwable t) {
                        failed.set(t);
                    } finally {
                        finished.set(System.nanoTime());
                        started.countDown();
                    }
                }, "download");
                reader.start();
                assertTrue(started.await(60, TimeUnit.SECONDS), "the download did not start");

                long sigterm = System.nanoTime();
                proxy.process.destroy();
                // The drain has begun: readiness says so, and the page's WebSockets were closed with 1012.
                awaitReadiness(proxy, 503);
                CodeServerBrowserIT.await(browser, b -> closeCodes(b).contains(1012L), "a WebSocket closed with 1012");
                double closedAfter = firstCloseAfter(browser, sigterm);
                draining.countDown();
                reader.join(TimeUnit.MINUTES.toMillis(2));
                assertTrue(failed.get() == null, "the download failed after " + received.get() + " bytes: " + failed.get());
                assertEquals(GIB, received.get(), "bytes downloaded");
                double downloaded = (finished.get() - sigterm) / 1e9;
                assertTrue(proxy.process.waitFor(60, TimeUnit.SECONDS), "the drained proxy did not exit");
                double exited = seconds(sigterm);
                System.out.printf("drain: 1012 in the page %.1f s after SIGTERM, the 1 GiB download complete %.1f s after"
                                + " SIGTERM, the process exited %.1f s after SIGTERM (%.1f s after the download); close codes: %s%n",
                        closedAfter, downloaded, exited, exited - downloaded, closeCodes(browser));
                assertTrue(exited - downloaded < 15, "the drain should end once the download is done");

                proxy = Distribution.STANDALONE.start(StandaloneWarIT.WAR, "/ide", configuration, work, port);
                long up = System.nanoTime();
                double restart = (up - sigterm) / 1e9 - exited;
                CodeServerBrowserIT.runInTerminal(browser, "echo after-$((6*7))", "after-42");
                System.out.printf("restart: the proxy up again %.1f s after it exited; a WebSocket reopened %.1f s and the"
                        + " terminal answered %.1f s after that%n", restart, firstOpenAfter(browser, up), seconds(up));
                assertPageNotReloaded(browser);
                assertEquals(cookie.getValue(), browser.manage().getCookieNamed("ide_proxy_session").getValue(),
                        "the same session cookie");
                assertTrue(browser.getCurrentUrl().contains("/ide/__ide/one/"), browser.getCurrentUrl());
                CodeServerBrowserIT.screenshot(browser, "proxy-drain-after");
            } catch (AssertionError | RuntimeException e) {
                CodeServerBrowserIT.screenshot(browser, "proxy-drain-failure");
                throw new AssertionError(e.getMessage() + "\n--- code-server:\n" + CodeServerBrowserIT.tail(ide.output())
                        + "\n--- proxy:\n" + CodeServerBrowserIT.tail(String.join("\n", proxy.output)), e);
            } finally {
                browser.quit();
                proxy.close();
            }
        } finally {
            close(ide, starting);
            files.stop(0);
        }
    }

    /** code-server starts while the proxy does (both take a while on a busy machine). */
    private static Future<CodeServer> startInBackground(Path home, Path project, int port) {
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            return pool.submit(() -> new CodeServer(home, project, port));
        } finally {
            pool.shutdown();
        }
    }

    /** Closes the code-server in use, or the one still starting when the test failed before it was up. */
    private static void close(CodeServer ide, Future<CodeServer> starting) throws Exception {
        if (ide != null) {
            ide.close();
        } else {
            try {
                starting.get(3, TimeUnit.MINUTES).close();
            } catch (ExecutionException failedToStart) {
                // nothing to close
            }
        }
    }

    /** The same keys and portal secret on every start, from the environment, as a restart would have. */
    private static Map<String, String> configuration(String targets) {
        return Map.of(
                "ide-proxy.token.secret", CodeServerBrowserIT.SECRET,
                "ide-proxy.auth.jwt.hs256-secret", CodeServerBrowserIT.PORTAL_SECRET,
                "ide-proxy.targets", targets);
    }

    private Path project(String marker) throws Exception {
        Path dir = Files.createDirectories(work.resolve("project"));
        Files.writeString(dir.resolve(marker), "restarts\n");
        return dir;
    }

    /** Chromium with the WebSocket recorder installed before any page script runs. */
    private WebDriver browser() {
        WebDriver browser = CodeServerBrowserIT.browser(work.resolve("chromium"));
        ((ChromiumDriver) browser).executeCdpCommand("Page.addScriptToEvaluateOnNewDocument",
                Map.of("source", RECORD_WEBSOCKETS));
        return browser;
    }

    /** Bootstraps workspace {@code one} in the browser, as the portal's link would. */
    private static void open(WebDriver browser, Distribution.Running proxy) throws Exception {
        browser.get(proxy.base + CodeServerBrowserIT.bootstrapPath(proxy, "one"));
        CodeServerBrowserIT.await(browser, b -> b.getCurrentUrl().contains("/ide/__ide/one/"), "redirect into the tunnel");
        assertNotNull(browser.manage().getCookieNamed("ide_proxy_session"), "session cookie");
    }

    /** A workspace serving 1 GiB at any path, in 1 MiB writes with a Content-Length. */
    private static HttpServer bigFileServer() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "application/octet-stream");
            exchange.sendResponseHeaders(200, GIB);
            byte[] chunk = new byte[1 << 20];
            try (OutputStream out = exchange.getResponseBody()) {
                for (long sent = 0; sent < GIB; sent += chunk.length) {
                    out.write(chunk);
                }
            }
        });
        server.start();
        return server;
    }

    private void awaitReadiness(Distribution.Running proxy, int status) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = http.send(HttpRequest.newBuilder(proxy.uri("/api/health/ready")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
            if (last == status) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("readiness answered " + last + ", expected " + status);
    }

    /** After a reload, code-server may bring back a terminal by itself; otherwise one is opened. */
    private static void awaitTerminal(WebDriver browser) {
        try {
            new org.openqa.selenium.support.ui.WebDriverWait(browser, Duration.ofSeconds(10)).until(
                    b -> CodeServerBrowserIT.terminalText(b).matches("(?s).*[$#]\\s*\\n.*"));
        } catch (org.openqa.selenium.TimeoutException none) {
            CodeServerBrowserIT.openTerminal(browser);
        }
    }

    private static WebElement reloadButton(WebDriver browser) {
        return browser.findElements(By.cssSelector(".monaco-dialog-box .monaco-button")).stream()
                .filter(b -> b.isDisplayed() && b.getText().contains("Reload")).findFirst().orElse(null);
    }

    private static String dialogText(WebDriver browser) {
        return browser.findElements(By.cssSelector(".monaco-dialog-box")).stream().map(WebElement::getText)
                .findFirst().orElse("");
    }

    /** Leaves a mark in the page's window: it survives reconnects, not a reload. */
    private static void markPage(WebDriver browser) {
        ((JavascriptExecutor) browser).executeScript("window.__ideProxyMark = 'same page'");
    }

    private static void assertPageNotReloaded(WebDriver browser) {
        assertEquals("same page", ((JavascriptExecutor) browser).executeScript("return window.__ideProxyMark"),
                "the workbench reconnected without reloading the page");
    }

    @SuppressWarnings("unchecked")
    private static List<Long> closeCodes(WebDriver browser) {
        return ((List<Map<String, Object>>) ((JavascriptExecutor) browser).executeScript("return window.__ideProxyCloses"))
                .stream().map(c -> ((Number) c.get("code")).longValue()).toList();
    }

    /** Seconds from {@code since} (a nanoTime) to the page's first WebSocket close after it. */
    @SuppressWarnings("unchecked")
    private static double firstCloseAfter(WebDriver browser, long since) {
        long at = pageMillis(browser, since);
        return ((List<Map<String, Object>>) ((JavascriptExecutor) browser).executeScript("return window.__ideProxyCloses"))
                .stream().mapToLong(c -> ((Number) c.get("at")).longValue()).filter(t -> t >= at).min()
                .stream().mapToDouble(t -> (t - at) / 1e3).findFirst().orElse(Double.NaN);
    }

    /** Seconds from {@code since} (a nanoTime) to the page's first WebSocket open after it. */
    @SuppressWarnings("unchecked")
    private static double firstOpenAfter(WebDriver browser, long since) {
        long at = pageMillis(browser, since);
        return ((List<Number>) ((JavascriptExecutor) browser).executeScript("return window.__ideProxyOpens"))
                .stream().mapToLong(Number::longValue).filter(t -> t >= at).min()
                .stream().mapToDouble(t -> (t - at) / 1e3).findFirst().orElse(Double.NaN);
    }

    /** A nanoTime of this JVM as the page's clock (Date.now()), both on this machine. */
    private static long pageMillis(WebDriver browser, long nanoTime) {
        long pageNow = ((Number) ((JavascriptExecutor) browser).executeScript("return Date.now()")).longValue();
        return pageNow - (System.nanoTime() - nanoTime) / 1_000_000;
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}

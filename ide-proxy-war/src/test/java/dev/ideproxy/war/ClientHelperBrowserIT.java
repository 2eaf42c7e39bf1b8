package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * {@code ide-proxy-client.js} in headless Chromium with its popup blocker on, on the example host
 * application's page (examples/host-app, which serves the helper from the library's jar): a real
 * click opens a tab that lands in the IDE tunnel; a refused mint (403, 404) closes the tab it opened
 * and the page shows the message; called outside a click the tab is blocked, the page says "popup
 * blocked" and nothing is minted.
 */
class ClientHelperBrowserIT {
    static final Duration UI = Duration.ofSeconds(60);

    @TempDir
    Path work;

    @ParameterizedTest
    @EnumSource(value = Distribution.class, names = {"TOMCAT_11", "JETTY_12"})
    void theHelperOpensTheIdeOnAClickAndReportsRefusals(Distribution distribution) throws Exception {
        requireTools();
        try (TestUpstream alices = new TestUpstream();
             Distribution.Running portal = distribution.start(HostAppIT.EXAMPLE, "/portal", Map.of(
                     "ide-proxy.token.secret", "host-app-test-secret-0123456789abcdef",
                     "example.workspaces", "alice:w1=" + alices.uri() + ",bob:w2=http://127.0.0.1:9"), work)) {
            WebDriver browser = browser();
            try {
                browser.get(portal.base + "/");
                String portalTab = browser.getWindowHandle();
                assertEquals("object", script(browser, "return typeof IdeProxyClient;"),
                        "the page loaded ide-proxy-client.js from the library's jar");
                browser.findElement(By.cssSelector("#login button")).click();
                awaitStatus(browser, "signed in as alice");
                countOpensAndMints(browser);

                // A real click: the tab opens at once and goes on to the IDE.
                openWithAClick(browser, "w1");
                await(browser, b -> b.getWindowHandles().size() == 2, "the IDE tab");
                String ideTab = browser.getWindowHandles().stream().filter(h -> !h.equals(portalTab)).findFirst().orElseThrow();
                browser.switchTo().window(ideTab);
                await(browser, b -> b.getCurrentUrl().equals(portal.base + "/__ide/w1/"), "the redirect into the tunnel");
                await(browser, b -> b.getPageSource().contains("workspace says hi to " + portal.hostHeader() + " at /"),
                        "the IDE's page");
                assertEquals(Boolean.TRUE, script(browser, "return window.opener === null;"), "the IDE tab cannot script the portal");
                screenshot(browser, distribution, "client-ide-tab");
                browser.close();
                browser.switchTo().window(portalTab);
                awaitStatus(browser, "Opened w1 in a new tab.");
                assertEquals(List.of(1L, 1L), counts(browser));

                // Refused: bob's workspace (403), then an unknown one (404). The tab opened and was closed.
                openWithAClick(browser, "w2");
                awaitStatus(browser, "You may not open this workspace. (workspace w2 belongs to someone else)");
                await(browser, b -> b.getWindowHandles().equals(Set.of(portalTab)), "the refused tab to close");
                assertEquals(List.of(2L, 2L), counts(browser));
                openWithAClick(browser, "nope");
                awaitStatus(browser, "There is no such workspace. (unknown workspace nope)");
                await(browser, b -> b.getWindowHandles().equals(Set.of(portalTab)), "the refused tab to close");
                assertEquals(List.of(3L, 3L), counts(browser));
                screenshot(browser, distribution, "client-refused");

                // Outside a click: Chromium blocks the tab, the helper says so and mints nothing.
                script(browser, "setTimeout(function () { openIde('w1'); }, 0);");
                awaitStatus(browser, "The browser blocked the IDE tab (popup blocked): allow pop-ups for this site, or click again.");
                assertEquals(Set.of(portalTab), browser.getWindowHandles());
                assertEquals(List.of(4L, 3L), counts(browser), "window.open was called, fetch was not");
                screenshot(browser, distribution, "client-popup-blocked");
            } catch (AssertionError | RuntimeException e) {
                screenshot(browser, distribution, "client-failure");
                throw new AssertionError(e.getMessage() + "\n--- portal:\n" + tail(String.join("\n", portal.output)), e);
            } finally {
                browser.quit();
            }
        }
    }

    private static void openWithAClick(WebDriver browser, String workspace) {
        WebElement field = browser.findElement(By.id("workspace"));
        field.clear();
        field.sendKeys(workspace);
        browser.findElement(By.id("open")).click();
    }

    /** Counts the page's calls of window.open and fetch, passing each on unchanged (still inside the click). */
    private static void countOpensAndMints(WebDriver browser) {
        script(browser, "window.opened = 0; window.minted = 0;"
                + "var open = window.open; window.open = function () { window.opened++; return open.apply(window, arguments); };"
                + "var fetch = window.fetch; window.fetch = function () { window.minted++; return fetch.apply(window, arguments); };");
    }

    private static List<Object> counts(WebDriver browser) {
        @SuppressWarnings("unchecked")
        List<Object> counts = (List<Object>) script(browser, "return [window.opened, window.minted];");
        return counts;
    }

    private static void awaitStatus(WebDriver browser, String expected) {
        await(browser, b -> expected.equals(b.findElement(By.id("status")).getText()),
                "the status '" + expected + "' (it is '" + browser.findElement(By.id("status")).getText() + "')");
    }

    private static Object script(WebDriver browser, String script) {
        return ((JavascriptExecutor) browser).executeScript(script);
    }

    static void requireTools() {
        boolean required = "1".equals(System.getProperty("e2e.required")) || "true".equals(System.getProperty("e2e.required"));
        if (!Files.isExecutable(CodeServerBrowserIT.CHROMIUM) || !Files.isExecutable(CodeServerBrowserIT.CHROMEDRIVER)) {
            if (required) {
                throw new AssertionError("browser tests need chromium and chromium-driver");
            }
            Assumptions.abort("browser tests skipped: chromium and chromium-driver not installed");
        }
    }

    /** Headless Chromium with its popup blocker on (chromedriver turns it off unless told not to). */
    private WebDriver browser() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CodeServerBrowserIT.CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1100,900", "--user-data-dir=" + work.resolve("chromium"));
        options.setExperimentalOption("excludeSwitches", List.of("disable-popup-blocking"));
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
}

package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.TestCertificate;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.WebDriver;

/**
 * Chromium and code-server through ide-proxy on embedded Jetty serving HTTPS with HTTP/2 (ALPN), as a
 * platform team's Jetty would serve its portal: the browser speaks HTTP/2 to the proxy, and Jetty
 * offers WebSockets over HTTP/2 (RFC 8441), so the IDE's WebSockets are streams of that connection,
 * not connections of their own. The workbench renders, the explorer lists the folder and a terminal
 * runs a command. Which protocol each request came over is recorded at the server.
 */
class Http2CodeServerBrowserIT {
    static final String SECRET = CodeServerBrowserIT.SECRET;

    @TempDir
    Path work;

    /** What reached the server: {@code METHOD PROTOCOL PATH}. */
    final List<String> requests = new CopyOnWriteArrayList<>();

    @Test
    void codeServerWorksOverHttp2() throws Exception {
        CodeServerBrowserIT.requireTools();
        Path folder = Files.createDirectories(work.resolve("project-h2"));
        Files.writeString(folder.resolve("gamma-marker.txt"), "h2\n");
        try (CodeServer codeServer = new CodeServer(Files.createDirectories(work.resolve("cs")), folder)) {
            Server server = start(IdeProxyConfig.builder()
                    .set(ConfigOption.TOKEN_SECRET, SECRET)
                    .set(ConfigOption.AUTH_JWT_HS256_SECRET, CodeServerBrowserIT.PORTAL_SECRET)
                    .set(ConfigOption.TARGETS, "one=" + codeServer.uri())
                    .build());
            // The certificate is made for this run: the browser is told to accept it, as a user would click through.
            WebDriver browser = CodeServerBrowserIT.browser(work.resolve("chromium"), "--ignore-certificate-errors");
            try {
                int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
                String base = "https://127.0.0.1:" + port;
                String minted = CodeServerBrowserIT.mint(HttpClient.newBuilder().sslContext(TestCertificate.sslContext())
                        .build(), URI.create(base + "/ide/api/dev/one/ide-token"), "one");
                browser.get(base + "/ide" + CodeServerBrowserIT.bootstrapPath(minted));
                CodeServerBrowserIT.await(browser, b -> b.getCurrentUrl().contains("/ide/__ide/one/"),
                        "redirect into the tunnel");
                CodeServerBrowserIT.awaitExplorerShows(browser, "gamma-marker.txt");
                CodeServerBrowserIT.openTerminal(browser);
                CodeServerBrowserIT.runInTerminal(browser, "echo over-h$((1+1))", "over-h2");
                CodeServerBrowserIT.screenshot(browser, "http2-terminal");

                assertTrue(requests.stream().anyMatch(r -> r.startsWith("GET HTTP/2.0 /ide/__ide/one/")),
                        "the browser spoke HTTP/2 to the proxy: " + requests);
                List<String> sockets = requests.stream()
                        .filter(r -> r.startsWith("CONNECT ") || r.contains("reconnectionToken")).toList();
                assertTrue(!sockets.isEmpty() && sockets.stream().allMatch(r -> r.startsWith("CONNECT HTTP/2.0 ")),
                        "the IDE's WebSockets were streams of the HTTP/2 connection (RFC 8441): " + sockets);
            } catch (AssertionError | RuntimeException e) {
                CodeServerBrowserIT.screenshot(browser, "http2-failure");
                throw new AssertionError(e.getMessage() + "\n--- code-server:\n"
                        + CodeServerBrowserIT.tail(codeServer.output()), e);
            } finally {
                browser.quit();
                server.stop();
            }
        }
    }

    /** Embedded Jetty: HTTPS on a free loopback port, HTTP/2 and HTTP/1.1 by ALPN, ide-proxy at {@code /ide}. */
    private Server start(IdeProxyConfig config) throws Exception {
        Server server = new Server();
        ServerConnector connector = TestCertificate.jettyConnector(server);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/ide");
        IdeProxy proxy = IdeProxy.builder(config).build();
        context.addServletContainerInitializer((classes, ctx) -> proxy.install(ctx));
        JakartaWebSocketServletContainerInitializer.configure(context, null);
        server.setHandler(new Handler.Wrapper(context) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                requests.add(request.getMethod() + " " + request.getConnectionMetaData().getProtocol() + " "
                        + request.getHttpURI().getPathQuery());
                return super.handle(request, response, callback);
            }
        });
        server.start();
        return server;
    }
}

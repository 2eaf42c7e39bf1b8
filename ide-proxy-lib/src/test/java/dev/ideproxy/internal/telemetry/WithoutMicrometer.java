package dev.ideproxy.internal.telemetry;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import dev.ideproxy.testing.WebSocketUpstream;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/**
 * Run by {@link NoMicrometerTest} in a class loader without Micrometer: a host application that has
 * no Micrometer builds and installs ide-proxy, opens a session, proxies a request and a WebSocket
 * message. Answers what it saw, in one line.
 */
public final class WithoutMicrometer implements Callable<String> {
    private final Container kind;

    public WithoutMicrometer(String kind) {
        this.kind = Container.valueOf(kind);
    }

    @Override
    public String call() throws Exception {
        try {
            Class.forName("io.micrometer.core.instrument.MeterRegistry");
            return "Micrometer is on the class path";
        } catch (ClassNotFoundException expected) {
            // the point of this run
        }
        // This copy of Tomcat must not install its URL handler factory: the JVM takes one, for good, and
        // the tests' own Tomcat, in the class loader that outlives this run, needs it.
        org.apache.catalina.webresources.TomcatURLStreamHandlerFactory.disable();
        WebSocketClient client = new WebSocketClient();
        try (Upstream http = new Upstream("H"); WebSocketUpstream sockets = new WebSocketUpstream("W")) {
            IdeProxy proxy = IdeProxy.builder(IdeProxyConfig.builder()
                    .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                    .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                    .set(ConfigOption.TARGETS, "a=" + http.uri() + ",w=" + sockets.uri())
                    .build()).build();
            try (Container.Running server = kind.start("", proxy)) {
                Browser browser = new Browser(server);
                int status = browser.getPath("/__ide/a/x", browser.session("a", "alice")).statusCode();
                client.start();
                BrowserSocket socket = BrowserSocket.open(client, server, "/__ide/w/echo", browser.session("w", "alice"));
                Callback.Completable sent = new Callback.Completable();
                socket.session().sendText("hello", sent);
                sent.get(10, TimeUnit.SECONDS);
                BrowserSocket.Message echo = socket.nextMessage(Duration.ofSeconds(10));
                socket.session().close(1000, "bye", Callback.NOOP);
                socket.closed().get(10, TimeUnit.SECONDS);
                return "http " + status + ", websocket " + (echo == null ? null : echo.text());
            }
        } finally {
            client.stop();
        }
    }
}

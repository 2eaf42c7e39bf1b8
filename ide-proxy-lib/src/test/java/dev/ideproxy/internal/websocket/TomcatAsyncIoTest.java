package dev.ideproxy.internal.websocket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.BrowserSocket;
import dev.ideproxy.testing.Closer;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Http2Browser;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.WebSocketUpstream;
import jakarta.servlet.ServletContext;
import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Tomcat's connector with {@code useAsyncIO="false"}: the passthrough's socket operations never complete
 * there (before this test's fix every session hung, no byte crossing), so ide-proxy relays its sessions as
 * messages, and they work; with Tomcat's default the same session is relayed as bytes.
 */
class TomcatAsyncIoTest {
    @ParameterizedTest
    @EnumSource(value = Container.Protocols.class, names = {"HTTP_1_1", "HTTP_1_1_WITHOUT_ASYNC_IO"})
    void aSessionWorksAndIsRelayedAsTheConnectorAllows(Container.Protocols protocols) throws Exception {
        try (Closer closer = new Closer()) {
            WebSocketUpstream upstream = closer.add(new WebSocketUpstream("W"));
            IdeProxy proxy = IdeProxy.builder(IdeProxyConfig.builder()
                    .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                    .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                    .set(ConfigOption.TARGETS, "w=" + upstream.uri())
                    .build()).build();
            AtomicReference<ServletContext> context = new AtomicReference<>();
            Container.Running server = closer.add(Container.TOMCAT.start(Container.Install.INITIALIZER, protocols, "",
                    c -> {
                        proxy.install(c);
                        context.set(c);
                    }));
            WebSocketClient client = new WebSocketClient();
            client.setMaxBinaryMessageSize(4 << 20);
            client.start();
            closer.add(client::stop);

            String cookie = new Browser(server).session("w", "alice");
            WebSocketTunnel tunnel = WebSocketTunnel.of(context.get());
            Set<LiveRelay> before = tunnel.relays().snapshot();
            BrowserSocket socket = Http2Browser.open(client, server, "/__ide/w/term", cookie);
            Set<LiveRelay> opened = new HashSet<>(tunnel.relays().snapshot());
            opened.removeAll(before);
            assertEquals(1, opened.size());
            Class<? extends LiveRelay> expected = protocols == Container.Protocols.HTTP_1_1 ? ByteRelay.class : Relay.class;
            assertInstanceOf(expected, opened.iterator().next());

            assertEquals("W|hello", socket.roundTrip("hello"));
            byte[] big = new byte[1 << 20];
            new Random(15).nextBytes(big);
            assertArrayEquals(big, socket.roundTrip(big, Duration.ofSeconds(20)));
            TunnelFixture.close(socket);
        }
    }
}

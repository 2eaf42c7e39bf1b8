package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

/**
 * The loopback-only check against a real peer that is not loopback: the endpoint on embedded Jetty
 * listening on every interface, asked once over 127.0.0.1 and once over this machine's own
 * non-loopback address (the distributions in {@code MetricsWarIT} listen on loopback only).
 */
class PrometheusEndpointTest {
    static final String SECRET = "endpoint-test-secret-0123456789abcdef";
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void loopbackOnlyAnswersLoopbackPeersAndNoOther() throws Exception {
        InetAddress external = nonLoopbackAddress();
        try (Served served = serve(config().set(ConfigOption.METRICS_PROMETHEUS_LOOPBACK_ONLY, "true").build())) {
            assertEquals(200, get(served.uri("127.0.0.1"), null).statusCode());
            HttpResponse<String> outside = get(served.uri(external.getHostAddress()), null);
            assertEquals(404, outside.statusCode());
            assertFalse(outside.body().contains("jvm_"), outside.body());
        }
    }

    @Test
    void withBothTheSecretAndLoopbackAreNeeded() throws Exception {
        InetAddress external = nonLoopbackAddress();
        try (Served served = serve(config().set(ConfigOption.METRICS_PROMETHEUS_LOOPBACK_ONLY, "true")
                .set(ConfigOption.METRICS_PROMETHEUS_BEARER_SECRET, SECRET).build())) {
            assertEquals(401, get(served.uri("127.0.0.1"), null).statusCode());
            assertEquals(200, get(served.uri("127.0.0.1"), "Bearer " + SECRET).statusCode());
            assertEquals(404, get(served.uri(external.getHostAddress()), "Bearer " + SECRET).statusCode());
        }
    }

    @Test
    void withTheSecretOnlyAnyPeerWithItIsAnswered() throws Exception {
        InetAddress external = nonLoopbackAddress();
        try (Served served = serve(config().set(ConfigOption.METRICS_PROMETHEUS_BEARER_SECRET, SECRET).build())) {
            assertEquals(200, get(served.uri(external.getHostAddress()), "bearer " + SECRET).statusCode());
            assertEquals(401, get(served.uri(external.getHostAddress()), null).statusCode());
        }
    }

    private static IdeProxyConfig.Builder config() {
        return IdeProxyConfig.builder().set(ConfigOption.TOKEN_SECRET, SECRET)
                .set(ConfigOption.METRICS_PROMETHEUS_PATH, "/metrics");
    }

    private HttpResponse<String> get(URI uri, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** An IPv4 address of this machine that is not loopback; the test is skipped on a machine without one. */
    private static InetAddress nonLoopbackAddress() throws Exception {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (address instanceof Inet4Address && !address.isLoopbackAddress() && !address.isLinkLocalAddress()) {
                    return address;
                }
            }
        }
        assumeTrue(false, "this machine has no non-loopback IPv4 address");
        return null;
    }

    private static Served serve(IdeProxyConfig config) throws Exception {
        PrometheusEndpoint endpoint = PrometheusEndpoint.from(config);
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("0.0.0.0");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.addServletContainerInitializer((classes, ctx) -> endpoint.install(ctx));
        server.setHandler(context);
        server.start();
        return new Served(server, connector.getLocalPort(), endpoint);
    }

    private record Served(Server server, int port, PrometheusEndpoint endpoint) implements AutoCloseable {
        URI uri(String host) {
            return URI.create("http://" + host + ":" + port + "/metrics");
        }

        @Override
        public void close() throws Exception {
            server.stop();
            endpoint.close();
        }
    }
}

package dev.ideproxy.war;

import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRegistration;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * The WAR's metrics: a Prometheus registry that ide-proxy records into, with the JVM's meters, served
 * in the Prometheus text format at {@code ide-proxy.metrics.prometheus.path}, answered only to a
 * scraper with the bearer secret ({@code metrics.prometheus.bearer-secret}, else 401), or only over
 * loopback ({@code metrics.prometheus.loopback-only}, else 404), or both. Created only when the path
 * is set; {@link #close()} (on undeploy) releases the registry and the JVM listeners of the GC meters.
 *
 * <p>Thread-safe.
 */
final class PrometheusEndpoint implements AutoCloseable {
    /** The text format Prometheus reads ({@code PrometheusMeterRegistry.scrape()} writes it). */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final String path;
    private final byte[] secretHash;
    private final boolean loopbackOnly;

    private PrometheusEndpoint(String path, byte[] secret, boolean loopbackOnly) {
        this.path = path;
        this.secretHash = secret == null ? null : sha256(secret);
        this.loopbackOnly = loopbackOnly;
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** The endpoint {@code config} asks for, or null when {@code metrics.prometheus.path} is unset (no metrics). */
    static PrometheusEndpoint from(IdeProxyConfig config) {
        String path = config.metricsPrometheusPath();
        return path == null ? null : new PrometheusEndpoint(path, config.metricsPrometheusBearerSecret(),
                config.metricsPrometheusLoopbackOnly());
    }

    MeterRegistry registry() {
        return registry;
    }

    /** Serves the registry at the configured path of {@code context}. */
    void install(ServletContext context) {
        ServletRegistration.Dynamic servlet = context.addServlet("ide-proxy-metrics", new Servlet(this));
        servlet.addMapping(path);
    }

    /** For the log: where and how it is served. */
    String describe(String contextPath) {
        return contextPath + path + " (" + (secretHash != null && loopbackOnly ? "bearer secret, loopback only"
                : secretHash != null ? "bearer secret" : "loopback only") + ")";
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }

    /** What the request gets: 200 with the metrics, 404 off loopback, 401 without the secret. */
    int decide(HttpServletRequest request) {
        if (loopbackOnly && !fromLoopbackDirectly(request)) {
            return HttpServletResponse.SC_NOT_FOUND;
        }
        if (secretHash != null && !bearerMatches(request.getHeader("Authorization"))) {
            return HttpServletResponse.SC_UNAUTHORIZED;
        }
        return HttpServletResponse.SC_OK;
    }

    /**
     * A request from the loopback interface that came through no proxy: a reverse proxy on the same host
     * connects from loopback too, and says so in a forwarding header.
     */
    private static boolean fromLoopbackDirectly(HttpServletRequest request) {
        if (request.getHeader("Forwarded") != null || request.getHeader("X-Forwarded-For") != null
                || request.getHeader("X-Real-IP") != null) {
            return false;
        }
        String peer = request.getRemoteAddr();
        if (peer == null || !(peer.indexOf(':') >= 0 || Character.isDigit(peer.charAt(0)))) {
            return false; // not a literal address: never resolve names here
        }
        try {
            return InetAddress.getByName(peer).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** Compares digests of the two secrets, so that the time taken tells nothing about the secret. */
    private boolean bearerMatches(String authorization) {
        if (authorization == null || authorization.length() < 7
                || !authorization.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) {
            return false;
        }
        byte[] given = authorization.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(secretHash, sha256(given));
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * Answers GET and HEAD with the scrape; everything short, {@code no-store}, and written here rather
     * than through {@code sendError}, whose container pages may name the server and its version.
     */
    private static final class Servlet extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final transient PrometheusEndpoint endpoint;

        Servlet(PrometheusEndpoint endpoint) {
            this.endpoint = endpoint;
        }

        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
            response.setHeader("Cache-Control", "no-store");
            String method = request.getMethod();
            boolean head = "HEAD".equals(method);
            int status = endpoint.decide(request);
            if (status == HttpServletResponse.SC_OK && !head && !"GET".equals(method)) {
                response.setHeader("Allow", "GET, HEAD");
                status = HttpServletResponse.SC_METHOD_NOT_ALLOWED;
            }
            String body;
            switch (status) {
                case HttpServletResponse.SC_OK -> {
                    response.setContentType(CONTENT_TYPE);
                    body = endpoint.registry.scrape();
                }
                case HttpServletResponse.SC_UNAUTHORIZED -> {
                    response.setHeader("WWW-Authenticate", "Bearer realm=\"ide-proxy metrics\"");
                    body = "Unauthorized: send the metrics bearer secret (" + ConfigOption.METRICS_PROMETHEUS_BEARER_SECRET.key()
                            + ").\n";
                }
                case HttpServletResponse.SC_NOT_FOUND -> body = "Not found.\n";
                default -> body = "Use GET.\n";
            }
            if (status != HttpServletResponse.SC_OK) {
                response.setContentType("text/plain;charset=utf-8");
            }
            response.setStatus(status);
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            response.setContentLength(bytes.length);
            if (!head) {
                response.getOutputStream().write(bytes);
            }
        }
    }
}

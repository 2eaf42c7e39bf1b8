package dev.ideproxy.war;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigException;
import dev.ideproxy.config.ConfigSource;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.redis.RedisStores;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.util.logging.Level;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires ide-proxy in the WAR from configuration alone: context parameters, overridden by environment
 * variables, overridden by system properties (see {@code docs/configuration.md}). Declared in
 * {@code web.xml}, so it works without annotation scanning on any Servlet 6 container.
 *
 * <p>With {@code ide-proxy.store.redis-uri} set, used bootstrap tokens, revocations and workspace
 * activity live in that Redis, shared by every node ({@link RedisStores}); the connection closes with the context. With
 * {@code ide-proxy.metrics.prometheus.path} set, ide-proxy records metrics, served there in the
 * Prometheus format ({@link PrometheusEndpoint}); the registry closes with the context.
 */
public final class IdeProxyWarListener implements ServletContextListener {
    private static final Logger LOG = LoggerFactory.getLogger(IdeProxyWarListener.class);
    /**
     * Lettuce's reconnection logger, held so that its level stays set: while Redis is away it logs a
     * WARN line every 5 s per connection, where ide-proxy logs one line per outage and one on recovery.
     */
    private static final java.util.logging.Logger RECONNECTION =
            java.util.logging.Logger.getLogger("io.lettuce.core.protocol.ConnectionWatchdog");
    private static final java.util.logging.Logger RECONNECTING =
            java.util.logging.Logger.getLogger("io.lettuce.core.protocol.ReconnectionHandler");

    private Assembly assembly;

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        Assembly assembly;
        try {
            assembly = assemble(IdeProxyConfig.from(ConfigSource.standard(context)));
        } catch (ConfigException e) {
            // One clear line, then fail the deployment.
            LOG.error("ide-proxy cannot start: {}", e.getMessage());
            throw e;
        }
        this.assembly = assembly;
        if (assembly.stores() != null) {
            // Netty's per-thread maps must not stay on the container's threads (see RedisStores.forgetThreadLocals).
            jakarta.servlet.FilterRegistration.Dynamic forget = context.addFilter("ide-proxy-redis-thread-locals",
                    new ForgetThreadLocals());
            forget.addMappingForUrlPatterns(java.util.EnumSet.of(jakarta.servlet.DispatcherType.REQUEST,
                    jakarta.servlet.DispatcherType.ASYNC, jakarta.servlet.DispatcherType.ERROR), false, "/*");
            forget.setAsyncSupported(true);
        }
        assembly.proxy().install(context);
        if (assembly.metrics() != null) {
            assembly.metrics().install(context);
            LOG.info("ide-proxy metrics served at {}", assembly.metrics().describe(context.getContextPath()));
        }
        Demo.announce(assembly.proxy(), context);
        RedisStores.forgetThreadLocals(); // this thread connected to Redis
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        // After the proxy's own parts (registered later, destroyed first): no thread of Redis's is left,
        // and the registry lets go of the JVM's GC notifications.
        if (assembly != null) {
            assembly.close();
            assembly = null;
            RedisStores.forgetThreadLocals();
        }
    }

    /** Forgets Netty's per-thread state after each request (Redis is called on the container's threads). */
    private static final class ForgetThreadLocals implements jakarta.servlet.Filter {
        @Override
        public void doFilter(jakarta.servlet.ServletRequest request, jakarta.servlet.ServletResponse response,
                             jakarta.servlet.FilterChain chain) throws java.io.IOException, jakarta.servlet.ServletException {
            try {
                chain.doFilter(request, response);
            } finally {
                RedisStores.forgetThreadLocals();
            }
        }
    }

    /**
     * ide-proxy as configured, the Redis stores it uses (null without {@code store.redis-uri}) and its
     * metrics endpoint (null without {@code metrics.prometheus.path}).
     */
    record Assembly(IdeProxy proxy, RedisStores stores, PrometheusEndpoint metrics) implements AutoCloseable {
        @Override
        public void close() {
            try {
                if (stores != null) {
                    stores.close();
                }
            } finally {
                if (metrics != null) {
                    metrics.close();
                }
            }
        }
    }

    /**
     * Builds ide-proxy from {@code config}; with {@code ide-proxy.store.redis-uri} set, connects to Redis
     * (checking the credentials and permissions) and uses it for used tokens and revocations. The other
     * options are checked first, so that their mistakes are reported without touching the network.
     *
     * @throws ConfigException for any misconfiguration, an unreachable Redis or refused credentials
     */
    static Assembly assemble(IdeProxyConfig config) {
        IdeProxy plain = IdeProxy.builder(config).build();
        RedisStores redis = RedisStores.connect(config).orElse(null);
        PrometheusEndpoint metrics = null;
        try {
            metrics = PrometheusEndpoint.from(config);
            if (redis == null && metrics == null) {
                return new Assembly(plain, null, null);
            }
            // Built again with its parts: one proxy per registry, or the gauges would read the first one.
            IdeProxy.Builder proxy = IdeProxy.builder(config);
            if (redis != null) {
                quietLettuceReconnectionLogs();
                proxy.replayStore(redis.replayStore()).revocationStore(redis.revocationStore())
                        .activityStore(redis.activityStore());
            }
            if (metrics != null) {
                proxy.meterRegistry(metrics.registry());
            }
            return new Assembly(proxy.build(), redis, metrics);
        } catch (RuntimeException e) {
            new Assembly(plain, redis, metrics).close();
            throw e;
        }
    }

    /** Unless the operator set their levels: Lettuce's reconnection lines only at SEVERE (ide-proxy logs the outage). */
    private static void quietLettuceReconnectionLogs() {
        for (java.util.logging.Logger logger : new java.util.logging.Logger[] {RECONNECTION, RECONNECTING}) {
            if (logger.getLevel() == null) {
                logger.setLevel(Level.SEVERE);
            }
        }
    }
}

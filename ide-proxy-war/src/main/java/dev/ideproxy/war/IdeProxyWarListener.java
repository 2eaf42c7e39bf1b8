package dev.ideproxy.war;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigException;
import dev.ideproxy.config.ConfigSource;
import dev.ideproxy.config.IdeProxyConfig;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires ide-proxy in the WAR from configuration alone: context parameters, overridden by environment
 * variables, overridden by system properties (see {@code docs/configuration.md}). Declared in
 * {@code web.xml}, so it works without annotation scanning on any Servlet 6 container.
 */
public final class IdeProxyWarListener implements ServletContextListener {
    private static final Logger LOG = LoggerFactory.getLogger(IdeProxyWarListener.class);

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        IdeProxy proxy;
        try {
            proxy = IdeProxy.builder(IdeProxyConfig.from(ConfigSource.standard(context))).build();
        } catch (ConfigException e) {
            // One clear line, then fail the deployment.
            LOG.error("ide-proxy cannot start: {}", e.getMessage());
            throw e;
        }
        proxy.install(context);
        Demo.announce(proxy, context);
    }
}

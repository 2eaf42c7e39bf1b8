package dev.ideproxy.war;

import dev.ideproxy.config.ConfigException;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.ConfigSource;
import dev.ideproxy.config.IdeProxyConfig;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.function.Function;
import java.security.SecureRandom;
import java.util.Base64;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http2.HTTP2Cipher;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ClassMatcher;
import org.eclipse.jetty.util.ssl.KeyStoreScanner;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * Runs the WAR on embedded Jetty ({@code java -jar ide-proxy.war}). Listens on
 * {@code ide-proxy.standalone.host}:{@code ide-proxy.standalone.port} (system property, or the
 * environment variables {@code IDE_PROXY_STANDALONE_HOST}/{@code _PORT}; default 127.0.0.1:8000),
 * HTTP/1.1, or HTTPS with HTTP/2 when {@code ide-proxy.standalone.tls.keystore} names a key store.
 *
 * <p>Demo mode: when neither {@code ide-proxy.token.secret} nor {@code ide-proxy.token.private-key}
 * is configured (environment or system property), it generates random
 * secrets for this run, maps the workspace {@code demo} to {@code http://127.0.0.1:8080} (unless
 * targets are configured), lets bootstrap links live 10 minutes, stays on the loopback interface
 * and prints a link to open.
 */
public final class StandaloneServer {
    /** {@code dev.ideproxy.IdeProxy.DRAIN_ATTRIBUTE}. */
    static final String DRAIN_ATTRIBUTE = dev.ideproxy.IdeProxy.DRAIN_ATTRIBUTE;

    private StandaloneServer() {
    }

    /** Called by the launcher with the WAR's location. */
    public static void run(Path war, String[] args) throws Exception {
        LauncherOptions options = LauncherOptions.readOrExit(args);
        String host = options.host();
        int port = options.port();
        String contextPath = options.contextPath();
        // Demo mode only when no signing key of any kind is configured.
        boolean demo = setting(ConfigOption.TOKEN_SECRET.key(), null) == null
                && setting(ConfigOption.TOKEN_PRIVATE_KEY.key(), null) == null;
        if (demo) {
            LauncherOptions.check(options::requireFixedPort);
            host = "127.0.0.1";
            System.setProperty(ConfigOption.TOKEN_SECRET.key(), randomSecret());
            System.setProperty(ConfigOption.AUTH_JWT_HS256_SECRET.key(), randomSecret());
            System.setProperty(ConfigOption.AUTH_POLICIES.key(), "jwt");
            System.setProperty(ConfigOption.TOKEN_TTL.key(), "10m");
            if (setting(ConfigOption.TARGETS.key(), null) == null && setting(ConfigOption.TARGET_TEMPLATE.key(), null) == null) {
                System.setProperty(ConfigOption.TARGETS.key(), Demo.WORKSPACE + "=http://127.0.0.1:8080");
            }
        }

        Duration drainTimeout;
        try {
            // Check the configuration before Jetty starts, so a mistake costs one clear line, not a stack trace;
            // with a Redis URI this connects once (credentials, permissions), then lets the WAR connect for good.
            IdeProxyConfig config = IdeProxyConfig.from(ConfigSource.environment(System.getenv())
                    .overriddenBy(ConfigSource.systemProperties(System.getProperties())));
            if (demo) {
                LauncherOptions.check(() -> Demo.requireTarget(config));
            }
            IdeProxyWarListener.assemble(config).close();
            drainTimeout = config.shutdownDrainTimeout();
        } catch (ConfigException e) {
            System.err.println("ide-proxy cannot start: " + e.getMessage());
            System.exit(LauncherOptions.EXIT_BAD_OPTION);
            return;
        }

        LauncherOptions.Tls tls = options.tls();
        Server server = new Server();
        ServerConnector connector = tls == null
                ? new ServerConnector(server, new HttpConnectionFactory(httpConfiguration()))
                : httpsConnector(server, tls);
        connector.setHost(host);
        connector.setPort(port);
        listen(connector, options);
        server.addConnector(connector);
        WebAppContext webapp = new WebAppContext(war.toString(), contextPath);
        webapp.setThrowUnavailableOnStartupException(true);
        // One copy of every class: the launcher already put the WAR's classes and libraries on the class
        // path, beside this Jetty. The web application then sees Jetty's server classes as the server's
        // own, which the WebSocket passthrough needs to take a connection over (docs/websocket.md).
        webapp.setParentLoaderPriority(true);
        webapp.setHiddenClassMatcher(new ClassMatcher());
        JakartaWebSocketServletContainerInitializer.configure(webapp, null);
        server.setHandler(webapp);
        // SIGTERM: drain before Jetty closes its connections (it would cut every exchange in flight).
        Runtime.getRuntime().addShutdownHook(new Thread(() -> drainThenStop(server, webapp, drainTimeout),
                "ide-proxy-shutdown"));
        if (demo) {
            // Read by the WAR's listener, which prints the link once ide-proxy is installed.
            System.setProperty(Demo.URL_PROPERTY, scheme(tls) + "://" + host + ":" + port);
        }
        try {
            server.start();
        } catch (Exception e) {
            System.err.println("ide-proxy failed to start: " + rootMessage(e));
            server.stop();
            System.exit(1);
        }
        System.setProperty("ide-proxy.standalone.running", "true"); // read by the launcher's shutdown hook
        System.out.println("ide-proxy listening on " + scheme(tls) + "://" + host + ":" + connector.getLocalPort()
                + (tls == null ? "" : " (HTTP/2 and HTTP/1.1)") + (demo ? " (demo mode)" : ""));
        server.join();
    }

    /**
     * Drains ide-proxy (readiness 503, WebSockets closed with 1012, HTTP exchanges in flight given
     * {@code shutdown.drain-timeout}), then stops Jetty. The drain is reached through the context
     * attribute {@code IdeProxy.DRAIN_ATTRIBUTE}, a JDK type: the web application has class loaders of its own.
     */
    @SuppressWarnings("unchecked")
    static void drainThenStop(Server server, WebAppContext webapp, Duration drainTimeout) {
        try {
            Object drain = webapp.getServletContext().getAttribute(DRAIN_ATTRIBUTE);
            if (drain instanceof Function<?, ?> f && webapp.isAvailable()) {
                ((Function<Duration, Boolean>) f).apply(drainTimeout);
            }
        } catch (RuntimeException e) {
            System.err.println("ide-proxy: the drain failed: " + e);
        }
        try {
            server.stop();
        } catch (Exception e) {
            System.err.println("ide-proxy: stopping failed: " + e);
        }
    }

    private static String setting(String key, String fallback) {
        return LauncherOptions.Setting.of(key).orElse(fallback);
    }

    /**
     * Jetty's HTTP settings. Request bodies are read 64 KiB at a time (Jetty's default is 8 KiB): uploads
     * through the proxy run about 1.5x faster, and Jetty holds the buffer only while reading, so idle
     * connections cost nothing more. No {@code Server} header and no version on error pages: the version
     * tells an attacker which advisories apply, and the library's own responses carry none either.
     */
    private static HttpConfiguration httpConfiguration() {
        HttpConfiguration http = new HttpConfiguration();
        http.setInputBufferSize(64 * 1024);
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        return http;
    }

    private static String scheme(LauncherOptions.Tls tls) {
        return tls == null ? "http" : "https";
    }

    /**
     * HTTPS with the key store of {@code ide-proxy.standalone.tls.*}: HTTP/2 and HTTP/1.1 offered by
     * ALPN (browsers choose HTTP/2, and open the IDE's WebSockets over it, RFC 8441), Jetty's default
     * protocols and ciphers (TLS 1.2 and 1.3) ordered for HTTP/2, and requests seen as {@code https}
     * (the session cookie is {@code Secure}). The key store is read again when its file changes.
     */
    private static ServerConnector httpsConnector(Server server, LauncherOptions.Tls tls) {
        HttpConfiguration https = httpConfiguration();
        https.addCustomizer(new SecureRequestCustomizer());
        HttpConnectionFactory http11 = new HttpConnectionFactory(https);
        HTTP2ServerConnectionFactory http2 = new HTTP2ServerConnectionFactory(https);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http11.getProtocol());
        SslContextFactory.Server keys = new SslContextFactory.Server();
        keys.setKeyStorePath(tls.keyStore().toString());
        keys.setKeyStoreType(tls.type());
        keys.setKeyStorePassword(tls.password());
        keys.setCipherComparator(HTTP2Cipher.COMPARATOR);
        // A renewed certificate is served without a restart: the key store file is checked every second
        // (as Jetty's ssl-reload module does) and, once changed and stable, read again for new connections.
        KeyStoreScanner renewals = new Renewals(keys, tls);
        renewals.setScanInterval(1);
        server.addBean(renewals);
        return new ServerConnector(server, new SslConnectionFactory(keys, alpn.getProtocol()), alpn, http2, http11);
    }

    /**
     * Jetty's key store scanner, made to check a changed file before Jetty reads it: Jetty drops the
     * certificate it serves before loading the new one, so a file that cannot be loaded (a renewal
     * written half, the wrong password, a PEM) would leave every new connection without a
     * certificate. Such a file is reported on one line and the previous certificate stays.
     */
    static final class Renewals extends KeyStoreScanner {
        private final LauncherOptions.Tls tls;

        Renewals(SslContextFactory.Server keys, LauncherOptions.Tls tls) {
            super(keys);
            this.tls = tls;
        }

        @Override
        public void reload() {
            String problem;
            try {
                KeyStore store = KeyStore.getInstance(tls.keyStore().toFile(), tls.password().toCharArray());
                int keys = LauncherOptions.serverKeys(store);
                problem = keys == 1 ? null : "it holds " + keys + " private keys with a certificate chain, not one";
            } catch (java.io.IOException | java.security.GeneralSecurityException e) {
                problem = "it cannot be opened as a key store with the password ("
                        + e.getClass().getSimpleName() + ")";
            }
            if (problem != null) {
                System.err.println("ide-proxy: " + tls.keyStore() + " changed, but " + problem
                        + "; still serving the previous certificate");
                return;
            }
            super.reload();
            System.out.println("ide-proxy: serving the certificate now in " + tls.keyStore());
        }
    }

    /**
     * Binds the port before anything else starts, so that a port in use (or one this user may not
     * open) ends start-up with one line naming it and the option, not Jetty's bare "Address already in use".
     */
    private static void listen(ServerConnector connector, LauncherOptions options) {
        LauncherOptions.check(() -> {
            try {
                connector.open();
            } catch (java.io.IOException e) {
                throw options.cannotListen(connector.getHost(), connector.getPort(), e);
            }
        });
    }

    private static String randomSecret() {
        byte[] bytes = new byte[48];
        new SecureRandom().nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}

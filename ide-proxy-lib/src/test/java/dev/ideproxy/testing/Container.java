package dev.ideproxy.testing;

import dev.ideproxy.IdeProxy;
import jakarta.servlet.ServletContainerInitializer;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.apache.catalina.Context;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.coyote.http2.Http2Protocol;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.apache.tomcat.websocket.server.WsSci;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * The two servlet containers every end-to-end case runs on, each started for real on an ephemeral
 * loopback port with WebSocket support, ide-proxy installed through its public API.
 */
public enum Container {
    JETTY {
        @Override
        public Running start(Install install, Protocols protocols, String contextPath,
                             Consumer<jakarta.servlet.ServletContext> installer) throws Exception {
            Server server = new Server();
            ServerConnector connector = switch (protocols) {
                case HTTP_1_1, HTTP_1_1_WITHOUT_ASYNC_IO -> new ServerConnector(server);
                case HTTP_2_CLEARTEXT -> new ServerConnector(server, new HttpConnectionFactory(),
                        new HTTP2CServerConnectionFactory());
                case HTTPS -> TestCertificate.jettyConnector(server);
            };
            connector.setHost("127.0.0.1");
            connector.setPort(0);
            server.addConnector(connector);
            ServletContextHandler context = new ServletContextHandler(contextPath);
            if (install == Install.DECLARED_LISTENER) {
                context.setInitParameter(DeclaredListener.PARAMETER, DeclaredListener.register(installer));
                context.addEventListener(new DeclaredListener());
            } else {
                context.addServletContainerInitializer(initializer(installer));
            }
            JakartaWebSocketServletContainerInitializer.configure(context, null);
            server.setHandler(context);
            server.start();
            URI base = URI.create(protocols.scheme() + "://127.0.0.1:" + connector.getLocalPort() + contextPath);
            return new Running(this, base, server::stop, context::stop);
        }
    },
    TOMCAT {
        @Override
        public Running start(Install install, Protocols protocols, String contextPath,
                             Consumer<jakarta.servlet.ServletContext> installer) throws Exception {
            Path baseDir = Files.createTempDirectory("ide-proxy-tomcat");
            Tomcat tomcat = new Tomcat();
            tomcat.setBaseDir(baseDir.toString());
            Connector connector = new Connector();
            connector.setPort(0);
            connector.setProperty("address", "127.0.0.1");
            if (protocols == Protocols.HTTP_1_1_WITHOUT_ASYNC_IO) {
                connector.setProperty("useAsyncIO", "false");
            } else if (protocols != Protocols.HTTP_1_1) {
                connector.addUpgradeProtocol(new Http2Protocol());
            }
            if (protocols == Protocols.HTTPS) {
                connector.setScheme("https");
                connector.setSecure(true);
                connector.setProperty("SSLEnabled", "true");
                SSLHostConfig tls = new SSLHostConfig();
                SSLHostConfigCertificate certificate = new SSLHostConfigCertificate(tls,
                        SSLHostConfigCertificate.Type.UNDEFINED);
                certificate.setCertificateKeystoreFile(TestCertificate.keyStore().toString());
                certificate.setCertificateKeystorePassword(TestCertificate.PASSWORD);
                certificate.setCertificateKeystoreType("PKCS12");
                tls.addCertificate(certificate);
                connector.addSslHostConfig(tls);
            }
            tomcat.getService().addConnector(connector);
            tomcat.setConnector(connector);
            Context context = tomcat.addContext(contextPath, Files.createDirectories(baseDir.resolve("docs")).toString());
            // The web application sees the classes of whoever started it (Tomcat's default is the system class
            // loader): the same as the test's, except in NoMicrometerTest's class loader without Micrometer.
            context.setParentClassLoader(Container.class.getClassLoader());
            context.addServletContainerInitializer(new WsSci(), null);
            if (install == Install.DECLARED_LISTENER) {
                context.addParameter(DeclaredListener.PARAMETER, DeclaredListener.register(installer));
                context.addApplicationListener(DeclaredListener.class.getName());
            } else {
                context.addServletContainerInitializer(initializer(installer), null);
            }
            tomcat.start();
            URI base = URI.create(protocols.scheme() + "://127.0.0.1:" + connector.getLocalPort() + contextPath);
            return new Running(this, base, () -> {
                tomcat.stop();
                tomcat.destroy();
            }, context::stop);
        }
    };

    /** Where the host application calls {@code IdeProxy.install}. */
    public enum Install {
        /** From a {@code ServletContainerInitializer} (the library's examples, Spring Boot). */
        INITIALIZER,
        /** From a {@code ServletContextListener} declared in {@code web.xml} (the WAR). */
        DECLARED_LISTENER
    }

    /** What the container's connector speaks besides HTTP/1.1. */
    public enum Protocols {
        /** HTTP/1.1 only. */
        HTTP_1_1,
        /**
         * HTTP/1.1 and cleartext HTTP/2 (h2c, by prior knowledge or by upgrade), the protocol that browsers
         * speak over TLS; on Jetty with WebSockets over HTTP/2 (RFC 8441), which Jetty advertises by default.
         */
        HTTP_2_CLEARTEXT,
        /**
         * HTTPS only, with HTTP/2 and HTTP/1.1 offered by ALPN, as a container serves browsers directly;
         * the certificate is {@link TestCertificate}'s.
         */
        HTTPS,
        /**
         * HTTP/1.1 only, with Tomcat's connector told {@code useAsyncIO="false"} (a setting some deployments
         * use); on Jetty, which has no such setting, as {@link #HTTP_1_1}.
         */
        HTTP_1_1_WITHOUT_ASYNC_IO;

        /** The scheme of the container's addresses. */
        public String scheme() {
            return this == HTTPS ? "https" : "http";
        }
    }

    /**
     * Starts the container speaking {@code protocols}, with ide-proxy installed by {@code installer}, called
     * as {@code install} says.
     */
    public abstract Running start(Install install, Protocols protocols, String contextPath,
                                  Consumer<jakarta.servlet.ServletContext> installer) throws Exception;

    /** Starts the container with ide-proxy installed by {@code installer}, called as {@code install} says. */
    public Running start(Install install, String contextPath, Consumer<jakarta.servlet.ServletContext> installer)
            throws Exception {
        return start(install, Protocols.HTTP_1_1, contextPath, installer);
    }

    /** Starts the container with ide-proxy installed by {@code installer} at {@code contextPath}. */
    public Running start(String contextPath, Consumer<jakarta.servlet.ServletContext> installer) throws Exception {
        return start(Install.INITIALIZER, contextPath, installer);
    }

    /** Starts the container with {@code proxy} installed. */
    public Running start(String contextPath, IdeProxy proxy) throws Exception {
        return start(contextPath, proxy::install);
    }

    private static ServletContainerInitializer initializer(Consumer<jakarta.servlet.ServletContext> installer) {
        return (classes, context) -> installer.accept(context);
    }

    /**
     * A started container; {@link #close()} stops it, {@link #stopWebapp()} only destroys the web
     * application (as an undeploy or redeploy does) while the server keeps running.
     */
    public record Running(Container kind, URI base, Stopper stopper, Stopper webappStopper) implements AutoCloseable {
        public Running(Container kind, URI base, Stopper stopper) {
            this(kind, base, stopper, stopper);
        }

        /** Stops the web application only: its context is destroyed, connections stay up. */
        public void stopWebapp() throws Exception {
            webappStopper.stop();
        }

        /** {@code base + path}, where {@code path} starts with {@code /}. */
        public URI uri(String path) {
            return URI.create(base + path);
        }

        /** The browser-facing {@code host:port}. */
        public String hostHeader() {
            return base.getHost() + ":" + base.getPort();
        }

        @Override
        public void close() throws Exception {
            stopper.stop();
        }
    }

    /** Stops a container. */
    @FunctionalInterface
    public interface Stopper {
        void stop() throws Exception;
    }
}

package dev.ideproxy.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http2.HTTP2Cipher;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * A self-signed certificate for {@code 127.0.0.1} and {@code localhost}, made once per test JVM with the
 * JDK's own {@code keytool} into a temporary PKCS#12 key store: what the containers serve HTTPS with in
 * tests ({@link Container.Protocols#HTTPS}), and what the tests' clients trust, and nothing else.
 */
public final class TestCertificate {
    /** The key store's and the key's password. */
    public static final String PASSWORD = "ide-proxy-test";
    private static Path keyStore;

    private TestCertificate() {
    }

    /** The key store holding the certificate and its private key (alias {@code server}). */
    public static synchronized Path keyStore() {
        if (keyStore == null) {
            try {
                Path dir = Files.createTempDirectory("ide-proxy-tls");
                Path file = newKeyStore(dir.resolve("server.p12"));
                file.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
                keyStore = file;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return keyStore;
    }

    /**
     * Makes another certificate of the same kind (a new key, the same names and {@link #PASSWORD}) into
     * {@code file}, which must not exist yet: a renewal, as far as a server can tell.
     */
    public static Path newKeyStore(Path file) {
        try {
            Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                    "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-validity", "2", "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                    "-storetype", "PKCS12", "-keystore", file.toString(),
                    "-storepass", PASSWORD, "-keypass", PASSWORD)
                    .redirectErrorStream(true).start();
            String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (keytool.waitFor() != 0) {
                throw new IOException("keytool failed: " + output);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Jetty's server side of it. */
    public static SslContextFactory.Server server() {
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setKeyStorePath(keyStore().toString());
        tls.setKeyStorePassword(PASSWORD);
        tls.setKeyStoreType("PKCS12");
        return tls;
    }

    /**
     * A connector of Jetty's serving HTTPS with this certificate, HTTP/2 and HTTP/1.1 offered by ALPN (as a
     * production connector does), with the secure-request customizer that makes Jetty's requests
     * {@code https}. Not yet added to {@code server}; its host and port are Jetty's defaults.
     */
    public static ServerConnector jettyConnector(Server server) {
        HttpConfiguration https = new HttpConfiguration();
        https.addCustomizer(new SecureRequestCustomizer());
        HttpConnectionFactory http11 = new HttpConnectionFactory(https);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http11.getProtocol());
        SslContextFactory.Server tls = server();
        tls.setCipherComparator(HTTP2Cipher.COMPARATOR);
        return new ServerConnector(server, new SslConnectionFactory(tls, alpn.getProtocol()), alpn,
                new HTTP2ServerConnectionFactory(https), http11);
    }

    /** A JDK {@code SSLContext} that trusts this certificate only (for {@code java.net.http.HttpClient}). */
    public static SSLContext sslContext() {
        try (InputStream in = Files.newInputStream(keyStore())) {
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(in, PASSWORD.toCharArray());
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, trust.getTrustManagers(), null);
            return ssl;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A client side that trusts this certificate only, and checks the host name against it. */
    public static SslContextFactory.Client client() {
        SslContextFactory.Client tls = new SslContextFactory.Client();
        tls.setTrustStorePath(keyStore().toString());
        tls.setTrustStorePassword(PASSWORD);
        tls.setTrustStoreType("PKCS12");
        return tls;
    }
}

package dev.ideproxy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
                Path file = dir.resolve("server.p12");
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
                file.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
                keyStore = file;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        return keyStore;
    }

    /** Jetty's server side of it. */
    public static SslContextFactory.Server server() {
        SslContextFactory.Server tls = new SslContextFactory.Server();
        tls.setKeyStorePath(keyStore().toString());
        tls.setKeyStorePassword(PASSWORD);
        tls.setKeyStoreType("PKCS12");
        return tls;
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

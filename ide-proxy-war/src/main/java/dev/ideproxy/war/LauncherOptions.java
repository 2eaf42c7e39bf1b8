package dev.ideproxy.war;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.UnrecoverableKeyException;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The standalone launcher's own options ({@code ide-proxy.standalone.*}), read and checked before
 * anything starts. A mistake ends start-up with one line on stderr that names the option the way
 * the user set it (system property or environment variable) and exit status 2: never a stack trace
 * from deep inside Jetty, never a value silently ignored.
 */
final class LauncherOptions {
    static final String PREFIX = "ide-proxy.standalone.";
    static final String HOST = PREFIX + "host";
    static final String PORT = PREFIX + "port";
    static final String CONTEXT_PATH = PREFIX + "context-path";
    static final String TLS_KEYSTORE = PREFIX + "tls.keystore";
    static final String TLS_KEYSTORE_PASSWORD = PREFIX + "tls.keystore-password";
    /** Exit status of a refused start-up, as docs/deployment.md promises. */
    static final int EXIT_BAD_OPTION = 2;
    private static final List<String> KNOWN = List.of(HOST, PORT, CONTEXT_PATH, TLS_KEYSTORE, TLS_KEYSTORE_PASSWORD);
    private static final Pattern CONTEXT_PATH_SYNTAX = Pattern.compile("/|(/[A-Za-z0-9_~.-]+)+");

    private final Setting host;
    private final Setting port;
    private final Setting contextPath;
    private final Setting keyStore;
    private final Setting keyStorePassword;

    private LauncherOptions(Setting host, Setting port, Setting contextPath, Setting keyStore,
                            Setting keyStorePassword) {
        this.host = host;
        this.port = port;
        this.contextPath = contextPath;
        this.keyStore = keyStore;
        this.keyStorePassword = keyStorePassword;
    }

    /** The server's key and certificate chain for HTTPS: a key store file and its password. */
    record Tls(Path keyStore, String type, String password) {
        @Override
        public String toString() {
            return "Tls[" + keyStore + ", " + type + "]"; // never the password
        }
    }

    /** One option's value and the name it was given under: the system property, or else the environment variable. */
    record Setting(String name, String value) {
        static Setting of(String key, Map<String, String> env, Properties properties) {
            String value = properties.getProperty(key);
            if (value != null && !value.isBlank()) {
                return new Setting(key, value.trim());
            }
            String variable = environmentName(key);
            value = env.get(variable);
            return new Setting(variable, value == null || value.isBlank() ? null : value.trim());
        }

        /** The system property or environment variable of this JVM. */
        static Setting of(String key) {
            return of(key, System.getenv(), System.getProperties());
        }

        String orElse(String fallback) {
            return value == null ? fallback : value;
        }
    }

    /** A refused option; its message is the whole line to print. */
    static final class Invalid extends RuntimeException {
        Invalid(String option, String problem) {
            super("ide-proxy cannot start: " + option + ": " + problem, null, false, false);
        }
    }

    /** Reads and checks this JVM's options; prints one line and exits with status 2 if one is wrong. */
    static LauncherOptions readOrExit(String[] args) {
        LauncherOptions[] options = new LauncherOptions[1];
        check(() -> options[0] = read(args, System.getenv(), System.getProperties()));
        return options[0];
    }

    /** Runs a check of the launcher's; prints its one line and exits with status 2 if it refuses. */
    static void check(Runnable check) {
        try {
            check.run();
        } catch (Invalid e) {
            System.err.println(e.getMessage());
            System.err.flush();
            System.exit(EXIT_BAD_OPTION);
        }
    }

    static LauncherOptions read(String[] args, Map<String, String> env, Properties properties) {
        if (args.length > 0) {
            throw new Invalid(quoted(args[0]), "java -jar ide-proxy.war takes no arguments; set options as"
                    + " environment variables or system properties (see docs/configuration.md)");
        }
        refuseUnknown(env, properties);
        LauncherOptions options = new LauncherOptions(Setting.of(HOST, env, properties),
                Setting.of(PORT, env, properties), Setting.of(CONTEXT_PATH, env, properties),
                Setting.of(TLS_KEYSTORE, env, properties), Setting.of(TLS_KEYSTORE_PASSWORD, env, properties));
        options.host();
        options.port();
        options.contextPath();
        options.tls();
        return options;
    }

    /**
     * HTTPS, when {@code tls.keystore} names a key store (PKCS#12 or JKS) holding one private key
     * and its certificate chain, opened with {@code tls.keystore-password}; null for plain HTTP.
     * The store is opened here, so a wrong path or password ends start-up with one line, never
     * echoing the password.
     */
    Tls tls() {
        if (keyStore.value() == null) {
            if (keyStorePassword.value() != null) {
                throw new Invalid(keyStorePassword.name(), "is set, but no key store is (" + TLS_KEYSTORE + " or "
                        + environmentName(TLS_KEYSTORE) + "): name the key store to serve HTTPS with");
            }
            return null;
        }
        Path file = Path.of(keyStore.value());
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new Invalid(keyStore.name(), quoted(keyStore.value()) + " is not a readable file (a PKCS#12 or JKS"
                    + " key store holding the server's private key and certificate chain)");
        }
        if (keyStorePassword.value() == null) {
            throw new Invalid(keyStorePassword.name(), "is not set: the password of " + quoted(keyStore.value()));
        }
        char[] password = keyStorePassword.value().toCharArray();
        KeyStore store;
        try {
            store = KeyStore.getInstance(file.toFile(), password);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                throw new Invalid(keyStorePassword.name(), "does not open " + quoted(keyStore.value())
                        + " (wrong password)");
            }
            throw new Invalid(keyStore.name(), quoted(keyStore.value()) + " cannot be read as a key store ("
                    + oneLine(String.valueOf(e.getMessage())) + ")");
        } catch (GeneralSecurityException e) {
            throw new Invalid(keyStore.name(), quoted(keyStore.value()) + " is not a PKCS#12 or JKS key store");
        }
        int keys = serverKeys(store);
        if (keys != 1) {
            throw new Invalid(keyStore.name(), quoted(keyStore.value()) + " holds " + keys + " private keys with"
                    + " a certificate chain; it must hold exactly one, the server's");
        }
        return new Tls(file.toAbsolutePath(), store.getType(), keyStorePassword.value());
    }

    /** How many private keys with a certificate chain {@code store} holds; -1 when it cannot say. */
    static int serverKeys(KeyStore store) {
        try {
            int keys = 0;
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias) && store.getCertificateChain(alias) != null) {
                    keys++;
                }
            }
            return keys;
        } catch (KeyStoreException e) {
            return -1;
        }
    }

    /** The interface to listen on: an address of this machine, or 0.0.0.0 / :: for all. */
    String host() {
        String value = host.orElse("127.0.0.1");
        InetAddress address;
        try {
            address = InetAddress.getByName(value);
        } catch (UnknownHostException e) {
            throw new Invalid(host.name(), quoted(value) + " is not an IP address or a known host name");
        }
        if (!address.isAnyLocalAddress() && !isOwn(address)) {
            throw new Invalid(host.name(), quoted(value) + " is not an address of this machine"
                    + " (127.0.0.1 for loopback only, 0.0.0.0 for every interface)");
        }
        return value;
    }

    /** The port to listen on; 0 takes any free port. */
    int port() {
        String value = port.orElse("8000");
        if (!value.matches("[0-9]{1,5}") || Integer.parseInt(value) > 65535) {
            throw new Invalid(port.name(), quoted(value) + " is not a port number (1-65535, or 0 for any free port)");
        }
        return Integer.parseInt(value);
    }

    /** The web application's context path: {@code /}, or {@code /name} with more segments if wanted. */
    String contextPath() {
        String value = contextPath.orElse("/");
        if (!value.startsWith("/")) {
            throw new Invalid(contextPath.name(), quoted(value) + " must start with '/' (e.g. /ide, or / for the root)");
        }
        if (value.length() > 1 && value.endsWith("/")) {
            throw new Invalid(contextPath.name(), quoted(value) + " must not end with '/' (e.g. /ide, or / for the root)");
        }
        if (!CONTEXT_PATH_SYNTAX.matcher(value).matches() || value.matches(".*/\\.\\.?(/.*)?")) {
            throw new Invalid(contextPath.name(), quoted(value) + " must be / or /name, with segments of letters,"
                    + " digits, '-', '_', '.' or '~' (e.g. /ide)");
        }
        return value;
    }

    /** Demo mode prints a link to open, so it needs a port known before start-up. */
    void requireFixedPort() {
        if (port() == 0) {
            throw new Invalid(port.name(), "demo mode needs a fixed port, not 0");
        }
    }

    /** Why the connector could not listen, named after the option to change. */
    Invalid cannotListen(String host, int port, IOException e) {
        Throwable cause = e;
        while (!(cause instanceof BindException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        String reason = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        if (cause instanceof BindException && reason.toLowerCase(Locale.ROOT).contains("in use")) {
            return new Invalid(this.port.name(), "port " + port + " on " + host + " is already in use");
        }
        return new Invalid(this.port.name(), "cannot listen on " + host + " port " + port + " (" + oneLine(reason) + ")");
    }

    private static void refuseUnknown(Map<String, String> env, Properties properties) {
        for (String key : properties.stringPropertyNames()) {
            if (key.startsWith(PREFIX) && !KNOWN.contains(key)) {
                throw new Invalid(quoted(key), "unknown launcher option (known: " + String.join(", ", KNOWN) + ")");
            }
        }
        String variablePrefix = environmentName(PREFIX);
        for (String variable : env.keySet()) {
            if (variable.startsWith(variablePrefix) && KNOWN.stream().map(LauncherOptions::environmentName)
                    .noneMatch(variable::equals)) {
                throw new Invalid(quoted(variable), "unknown launcher option (known: "
                        + String.join(", ", KNOWN.stream().map(LauncherOptions::environmentName).toList()) + ")");
            }
        }
    }

    private static boolean isOwn(InetAddress address) {
        try {
            return address.isLoopbackAddress() || NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return false;
        }
    }

    static String environmentName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** A value as it may be printed on one line: quoted, control characters escaped, long ones cut. */
    static String quoted(String value) {
        String shown = value.length() > 80 ? value.substring(0, 80) + "…" : value;
        return "\"" + oneLine(shown) + "\"";
    }

    private static String oneLine(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.toString();
    }
}

package dev.ideproxy.internal.websocket;

import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.config.WebSocketMode;
import java.time.Duration;

/**
 * The limits and timers every relay applies to both of its sides, read once from the configuration.
 *
 * @param maxMessageSize  largest message relayed in either direction, in bytes (UTF-8 for text)
 * @param idleTimeout     longest silence from either side before the session is closed; zero for never
 * @param pingInterval    a side that was silent this long gets a keep-alive ping; zero for no pings
 * @param connectTimeout  time allowed for the upstream handshake, and for the browser's after it
 * @param mode            how sessions are relayed ({@code websocket.mode})
 *
 * <p>Immutable.
 */
record RelaySettings(long maxMessageSize, Duration idleTimeout, Duration pingInterval, Duration connectTimeout,
                     WebSocketMode mode) {

    /**
     * Size of the browser-side container's message buffer, in bytes. Tomcat allocates this buffer
     * per session (and a text buffer of as many characters, twice the bytes) and, with the partial
     * handlers the relay uses, hands a message over in pieces of this size: it is a chunk size, not
     * a limit. The relay enforces {@link #maxMessageSize} itself. Small, because every open session
     * holds it (Tomcat's default is 8 KiB); Jetty ignores it and hands over what one read brings
     * ({@link BrowserEndpoint#JETTY_CLIENT_READ}).
     */
    static final int CLIENT_CHUNK = 16 * 1024;

    static RelaySettings from(IdeProxyConfig config) {
        return new RelaySettings(config.wsMaxMessageSize(), config.wsIdleTimeout(), config.wsPingInterval(),
                config.upstreamConnectTimeout(), config.wsMode());
    }

    /** Browser-side binary buffer: one chunk, or the whole limit when smaller. */
    int clientBinaryBuffer() {
        return (int) Math.min(CLIENT_CHUNK, maxMessageSize);
    }

    /** Browser-side text buffer in characters (Tomcat uses a char buffer: 2 bytes each). */
    int clientTextBuffer() {
        return (int) Math.min(CLIENT_CHUNK / 2, maxMessageSize);
    }

    /** A Jakarta timeout in milliseconds: zero or less means none there too. */
    long idleTimeoutMillis() {
        return idleTimeout.toMillis();
    }
}

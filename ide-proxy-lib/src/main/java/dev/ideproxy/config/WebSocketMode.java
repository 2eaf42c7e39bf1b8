package dev.ideproxy.config;

/**
 * How WebSocket sessions are relayed ({@code websocket.mode}).
 */
public enum WebSocketMode {
    /**
     * {@link #PASSTHROUGH} where ide-proxy can take the browser's connection over (Tomcat; Jetty where
     * its server classes are ide-proxy's too: embedded, {@code java -jar}) and the upstream is plain
     * {@code ws}; {@link #MESSAGE} elsewhere.
     */
    AUTO,
    /**
     * The frames' bytes are copied unchanged between the browser's upgraded connection and the
     * upstream socket; the proxy reads frame headers only. Falls back to {@link #MESSAGE} where the
     * connection cannot be taken over (the WAR in Jetty's distribution) and for {@code wss} upstreams.
     */
    PASSTHROUGH,
    /** Each side terminated by a WebSocket stack (the container's Jakarta WebSocket, Jetty's client). */
    MESSAGE;

    static WebSocketMode parse(ConfigOption option, String raw) {
        for (WebSocketMode mode : values()) {
            if (mode.name().equalsIgnoreCase(raw.trim())) {
                return mode;
            }
        }
        throw new ConfigException(option.key() + " = '" + raw + "' must be auto, passthrough or message");
    }
}

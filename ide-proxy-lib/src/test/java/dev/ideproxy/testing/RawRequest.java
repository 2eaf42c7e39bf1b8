package dev.ideproxy.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A hand-written HTTP/1.1 request sent over a plain socket with {@link RawHttp}, for headers a
 * well-behaved client would not send or would rewrite (Host, forwarding headers, a WebSocket upgrade
 * read as plain HTTP):
 * <pre>{@code
 * RawHttp.Response r = RawRequest.get("/portal/__ide/a/x").host("a.ide.test:8080").cookie(cookie).send(server);
 * }</pre>
 * The request line, then {@code Host} (the container's own {@code host:port} unless {@link #host}
 * says otherwise), then the headers in the order they were added, then {@code Content-Length: 0} for a
 * POST, then {@code Connection: close} unless a {@code Connection} header was added.
 */
public final class RawRequest {
    /** The key of RFC 6455's example handshake. */
    public static final String WEBSOCKET_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    private final String verb;
    private final String target;
    private String host;
    private final List<String> headers = new ArrayList<>();
    private boolean connectionGiven;

    private RawRequest(String method, String target) {
        this.verb = method;
        this.target = target;
    }

    /** {@code GET target}; the target is sent as written (path and query, already encoded). */
    public static RawRequest get(String target) {
        return new RawRequest("GET", target);
    }

    /** {@code POST target} with an empty body. */
    public static RawRequest post(String target) {
        return new RawRequest("POST", target);
    }

    /** {@code method target}: a POST gets an empty body, any other method none. */
    public static RawRequest method(String method, String target) {
        return new RawRequest(method, target);
    }

    /** The Host header's value, as written (add the port if it should carry one). */
    public RawRequest host(String value) {
        this.host = value;
        return this;
    }

    /** Adds a header; the same name may be added more than once. */
    public RawRequest header(String name, String value) {
        headers.add(name + ": " + value);
        connectionGiven |= name.equalsIgnoreCase("Connection");
        return this;
    }

    /**
     * Adds a header line exactly as written, without its final CRLF: for a malformed, folded or smuggled
     * header (it may hold CRs, LFs and several lines). It does not count as a {@code Connection} header.
     */
    public RawRequest line(String raw) {
        headers.add(raw);
        return this;
    }

    /** Adds {@code Cookie: nameValue}; nothing when {@code nameValue} is null. */
    public RawRequest cookie(String nameValue) {
        return nameValue == null ? this : header("Cookie", nameValue);
    }

    /**
     * Adds the headers of a WebSocket handshake ({@code Upgrade}, {@code Connection: Upgrade},
     * {@code Sec-WebSocket-Key}, {@code Sec-WebSocket-Version: 13}); headers added after it follow them.
     */
    public RawRequest webSocket() {
        return header("Upgrade", "websocket").header("Connection", "Upgrade")
                .header("Sec-WebSocket-Key", WEBSOCKET_KEY).header("Sec-WebSocket-Version", "13");
    }

    /** The request as it goes on the wire. */
    public String text(Container.Running server) {
        StringBuilder sb = new StringBuilder(verb).append(' ').append(target).append(" HTTP/1.1\r\n");
        sb.append("Host: ").append(host == null ? server.hostHeader() : host).append("\r\n");
        for (String line : headers) {
            sb.append(line).append("\r\n");
        }
        if (verb.equals("POST")) {
            sb.append("Content-Length: 0\r\n");
        }
        if (!connectionGiven) {
            sb.append("Connection: close\r\n");
        }
        return sb.append("\r\n").toString();
    }

    /** Sends the request to {@code server}'s port and reads the answer. */
    public RawHttp.Response send(Container.Running server) throws IOException {
        return RawHttp.send(server.base().getHost(), server.base().getPort(), text(server));
    }
}

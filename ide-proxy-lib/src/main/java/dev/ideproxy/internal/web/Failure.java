package dev.ideproxy.internal.web;

import java.io.EOFException;
import java.net.SocketTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * Every way a request or a relayed WebSocket can fail, with the HTTP status it is answered with and
 * the WebSocket close code used when the same cause ends a live session: one cause, one answer on
 * both paths. {@link #of(Throwable)} is the one classifier of exceptions, used by the HTTP proxy, the
 * upstream WebSocket handshake and the relay alike.
 */
public enum Failure {
    BAD_REQUEST(400, 1008, "Bad request"),
    UNAUTHENTICATED(401, 1008, "Not signed in to this workspace"),
    FORBIDDEN(403, 1008, "Forbidden"),
    UNKNOWN_WORKSPACE(404, 1008, "Unknown workspace"),
    METHOD_NOT_ALLOWED(405, 1008, "Method not allowed"),
    /** Over a rate or connection limit ({@code limit.*}): try again later. */
    TOO_MANY_REQUESTS(429, 1013, "Too many requests"),
    /** A WebSocket message over {@code websocket.max-message-size}. */
    MESSAGE_TOO_BIG(413, 1009, "Message too big"),
    UPSTREAM_UNREACHABLE(502, 1011, "The workspace is not reachable"),
    /** An established connection ended without a proper end (reset, end of stream). */
    CONNECTION_LOST(502, 1011, "The connection to the workspace was lost"),
    /**
     * No answer in time. A live WebSocket that times out closes with 1001 (going away), which browsers
     * and IDEs treat as a reason to reconnect.
     */
    UPSTREAM_TIMEOUT(504, 1001, "The workspace did not answer in time"),
    /** ide-proxy cannot decide safely right now (e.g. its replay store is full or down): fail closed. */
    SERVICE_UNAVAILABLE(503, 1013, "Try again later"),
    INTERNAL(500, 1011, "Internal error");

    private final int status;
    private final int closeCode;
    private final String title;

    Failure(int status, int closeCode, String title) {
        this.status = status;
        this.closeCode = closeCode;
        this.title = title;
    }

    /**
     * The failure a connection-level exception stands for, whichever side raised it: a message over
     * the limit, a timeout, a lost connection, else an unreachable peer. Walks the cause chain.
     */
    public static Failure of(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof org.eclipse.jetty.websocket.api.exceptions.MessageTooLargeException
                    || t instanceof org.eclipse.jetty.websocket.core.exception.MessageTooLargeException) {
                return MESSAGE_TOO_BIG;
            }
            if (t instanceof TimeoutException || t instanceof SocketTimeoutException
                    || t instanceof org.eclipse.jetty.websocket.api.exceptions.WebSocketTimeoutException
                    || t instanceof org.eclipse.jetty.websocket.core.exception.WebSocketTimeoutException) {
                return UPSTREAM_TIMEOUT;
            }
            if (t instanceof EOFException || t instanceof ClosedChannelException) {
                return CONNECTION_LOST;
            }
        }
        return UPSTREAM_UNREACHABLE;
    }

    public int status() {
        return status;
    }

    public int closeCode() {
        return closeCode;
    }

    public String title() {
        return title;
    }

    /**
     * True for failures that usually pass by themselves (the workspace's IDE restarting, a slow
     * answer, ide-proxy busy or draining): they are answered with {@code Retry-After}.
     */
    public boolean isTemporary() {
        return this == UPSTREAM_UNREACHABLE || this == CONNECTION_LOST || this == UPSTREAM_TIMEOUT
                || this == SERVICE_UNAVAILABLE;
    }

    /** A stable machine-readable code for JSON bodies, e.g. {@code unknown_workspace}. */
    public String code() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** What the browser is told when reaching {@code workspaceId} failed this way. */
    public String upstreamMessage(String workspaceId) {
        return switch (this) {
            case UPSTREAM_TIMEOUT -> "Workspace " + workspaceId + " did not answer in time.";
            case UPSTREAM_UNREACHABLE, CONNECTION_LOST -> "Workspace " + workspaceId
                    + " is not reachable: it may be starting or restarting.";
            case SERVICE_UNAVAILABLE -> "ide-proxy is restarting; the request to workspace " + workspaceId
                    + " was cut.";
            default -> "The request to workspace " + workspaceId + " failed.";
        };
    }
}

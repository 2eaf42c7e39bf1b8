package dev.ideproxy.internal.web;

/**
 * Every way a request can fail, with the HTTP status it is answered with and the WebSocket close
 * code used when the same cause ends a live WebSocket session: one cause, one answer on both paths.
 */
public enum Failure {
    BAD_REQUEST(400, 1008, "Bad request"),
    UNAUTHENTICATED(401, 1008, "Not signed in to this workspace"),
    FORBIDDEN(403, 1008, "Forbidden"),
    UNKNOWN_WORKSPACE(404, 1008, "Unknown workspace"),
    METHOD_NOT_ALLOWED(405, 1008, "Method not allowed"),
    UPSTREAM_UNREACHABLE(502, 1011, "The workspace is not reachable"),
    UPSTREAM_TIMEOUT(504, 1011, "The workspace did not answer in time"),
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

    public int status() {
        return status;
    }

    public int closeCode() {
        return closeCode;
    }

    public String title() {
        return title;
    }

    /** A stable machine-readable code for JSON bodies, e.g. {@code unknown_workspace}. */
    public String code() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

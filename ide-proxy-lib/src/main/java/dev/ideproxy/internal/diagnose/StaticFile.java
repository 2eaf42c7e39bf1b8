package dev.ideproxy.internal.diagnose;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * One file of the diagnostics page, read once from the library's resources and sent with headers
 * that keep it inert anywhere else: a Content-Security-Policy that allows scripts, styles and
 * connections from the page's own origin only (no inline script, no framing, no form or base
 * changes), {@code no-store}, {@code nosniff} and no referrer. Immutable.
 */
record StaticFile(String name, String contentType, byte[] bytes) {
    /** The page's policy: its own script and style, and connections (fetch, WebSocket) to its own origin. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self';"
            + " connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    static StaticFile load(String name, String contentType) {
        try (InputStream in = StaticFile.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource missing from the library: " + name);
            }
            return new StaticFile(name, contentType, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void send(HttpServletResponse response) throws IOException {
        response.setStatus(HttpServletResponse.SC_OK);
        response.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Referrer-Policy", "no-referrer");
        response.setContentType(contentType);
        response.setContentLength(bytes.length);
        response.getOutputStream().write(bytes);
    }
}

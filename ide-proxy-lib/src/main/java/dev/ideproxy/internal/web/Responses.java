package dev.ideproxy.internal.web;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Short, useful error bodies: JSON for the API, a small HTML page for the browser. Never a stack
 * trace, never a token. Every response here is {@code Cache-Control: no-store}.
 */
public final class Responses {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Responses() {
    }

    /** {@code {"error":"code","message":"..."}} with the failure's status. */
    public static void json(HttpServletResponse response, Failure failure, String message) throws IOException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", failure.code());
        body.put("message", message);
        writeJson(response, failure.status(), body);
    }

    /** Writes {@code body} as JSON with a status and no-store caching. */
    public static void writeJson(HttpServletResponse response, int status, Map<String, ?> body) throws IOException {
        String json = JSON.writeValueAsString(body);
        JsonBuffers.track(); // this may run on a container thread outside ide-proxy's filters (an async failure)
        write(response, status, "application/json;charset=utf-8", json + "\n");
    }

    /**
     * The challenge of a 401 for the browser: RFC 9110 (11.6.1) requires one on every 401, and strict
     * clients (Jetty's) reject the response without it. The credential is the session cookie, which
     * has no registered scheme; {@code Cookie} names it as the expired "cookie authentication" draft
     * did. Browsers show the page and prompt for nothing.
     */
    public static final String COOKIE_CHALLENGE = "Cookie realm=\"ide-proxy\"";

    /**
     * A small HTML page whose title is the failure's and whose text is {@code message}; a 401 carries
     * {@link #COOKIE_CHALLENGE} unless the caller set a challenge already.
     */
    public static void page(HttpServletResponse response, Failure failure, String message) throws IOException {
        if (failure.status() == HttpServletResponse.SC_UNAUTHORIZED && !response.containsHeader("WWW-Authenticate")) {
            response.setHeader("WWW-Authenticate", COOKIE_CHALLENGE);
        }
        String html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
                + htmlEscape(failure.title()) + "</title></head>\n<body><h1>" + failure.status() + " "
                + htmlEscape(failure.title()) + "</h1>\n<p>" + htmlEscape(message) + "</p></body></html>\n";
        write(response, failure.status(), "text/html;charset=utf-8", html);
    }

    /**
     * The answer when the workspace cannot be reached for now (its IDE is restarting, or this node is
     * draining): the failure's status with {@code Retry-After}; for a browser navigating
     * ({@code Accept: text/html} on a GET) a short page that reloads itself after
     * {@code retrySeconds}, so that the IDE comes back on its own once it is up; JSON for other clients.
     */
    public static void retryLater(HttpServletRequest request, HttpServletResponse response, Failure failure,
                                  String message, int retrySeconds) throws IOException {
        if (response.isCommitted()) {
            return;
        }
        response.setHeader("Retry-After", Integer.toString(retrySeconds));
        if (!navigation(request)) {
            json(response, failure, message);
            return;
        }
        String html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta http-equiv=\"refresh\" content=\"" + retrySeconds + "\"><title>"
                + htmlEscape(failure.title()) + "</title></head>\n<body><h1>" + failure.status() + " "
                + htmlEscape(failure.title()) + "</h1>\n<p>" + htmlEscape(message) + "</p>\n<p>This page tries again in "
                + retrySeconds + " seconds. <a href=\"\">Try now</a></p></body></html>\n";
        write(response, failure.status(), "text/html;charset=utf-8", html);
    }

    /** A browser loading a page (rather than a script fetching data): a GET that accepts HTML. */
    static boolean navigation(HttpServletRequest request) {
        String accept = request.getHeader("Accept");
        return "GET".equals(request.getMethod()) && accept != null && accept.contains("text/html");
    }

    /** A small HTML page for an outcome that is not a failure (e.g. signed out), with no-store caching. */
    public static void notice(HttpServletResponse response, int status, String title, String message)
            throws IOException {
        String html = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
                + htmlEscape(title) + "</title></head>\n<body><h1>" + htmlEscape(title) + "</h1>\n<p>"
                + htmlEscape(message) + "</p></body></html>\n";
        write(response, status, "text/html;charset=utf-8", html);
    }

    private static void write(HttpServletResponse response, int status, String contentType, String body)
            throws IOException {
        if (response.isCommitted()) {
            return;
        }
        response.resetBuffer();
        response.setStatus(status);
        response.setHeader("Cache-Control", "no-store");
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setContentType(contentType);
        byte[] bytes = body.getBytes(UTF_8);
        response.setContentLength(bytes.length);
        OutputStream out = response.getOutputStream();
        out.write(bytes);
        out.flush();
    }

    public static String htmlEscape(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}

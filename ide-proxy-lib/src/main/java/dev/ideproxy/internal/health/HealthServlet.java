package dev.ideproxy.internal.health;

import dev.ideproxy.internal.web.Failure;
import dev.ideproxy.internal.web.Responses;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /api/health/live}: 200 {@code {"status":"up"}} whenever the web application serves.
 * {@code GET /api/health/ready}: 200 {@code {"status":"ready",...}} when {@link Readiness} says so,
 * else 503 {@code {"status":"unready","failed":[...],...}} naming each failed check. JSON, without
 * authentication (it tells nothing secret), {@code Cache-Control: no-store}; GET and HEAD only.
 */
public final class HealthServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    /** Servlet mapping. */
    public static final String MAPPING = "/api/health/*";
    private static final String LIVE = "/live";
    private static final String READY = "/ready";

    private final transient Readiness readiness;

    public HealthServlet(Readiness readiness) {
        this.readiness = readiness;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String pathInfo = request.getPathInfo();
        String contextPath = request.getServletContext().getContextPath();
        if (!(LIVE.equals(pathInfo) || READY.equals(pathInfo))
                || !request.getRequestURI().equals(contextPath + "/api/health" + pathInfo)) {
            Responses.json(response, Failure.UNKNOWN_WORKSPACE, "no such endpoint");
            return;
        }
        String method = request.getMethod();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            response.setHeader("Allow", "GET, HEAD");
            Responses.json(response, Failure.METHOD_NOT_ALLOWED, "use GET");
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        if (LIVE.equals(pathInfo)) {
            body.put("status", "up");
            Responses.writeJson(response, HttpServletResponse.SC_OK, body);
            return;
        }
        Readiness.Answer answer = readiness.check();
        body.put("status", answer.ready() ? "ready" : "unready");
        if (!answer.ready()) {
            body.put("failed", answer.failed());
        }
        body.put("checks", answer.checks());
        Responses.writeJson(response, answer.ready() ? HttpServletResponse.SC_OK
                : HttpServletResponse.SC_SERVICE_UNAVAILABLE, body);
    }
}

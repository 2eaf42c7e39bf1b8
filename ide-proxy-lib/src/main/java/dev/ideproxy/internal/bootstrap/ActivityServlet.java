package dev.ideproxy.internal.bootstrap;

import dev.ideproxy.access.AccessDecision;
import dev.ideproxy.access.AccessPolicy;
import dev.ideproxy.activity.WorkspaceActivity;
import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.internal.web.Failure;
import dev.ideproxy.internal.web.Queries;
import dev.ideproxy.internal.web.Responses;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/activity[?inactive-since=30m]}: every workspace last used longer ago than that
 * (every known workspace without the parameter), oldest first, for an idle culler. Only for
 * administrators ({@link AccessPolicy#checkAdmin}): 401 or 403 otherwise. With a shared activity store
 * the answer covers every node.
 *
 * <pre>{@code
 * {"now":"2026-12-01T10:00:00Z","cutoff":"2026-12-01T09:30:00Z","workspaces":[
 *   {"workspace":"42","lastActivity":"2026-12-01T08:12:09.114Z","idleSeconds":6470,"user":"alice","liveWebSockets":0}]}
 * }</pre>
 */
public final class ActivityServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ActivityServlet.class);
    /** Servlet mapping (exact). */
    public static final String MAPPING = "/api/activity";
    /** Query parameter: how long a workspace must have been unused to be listed, e.g. {@code 30m}. */
    public static final String INACTIVE_SINCE = "inactive-since";
    private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)?");
    /** The cutoff that lists every known workspace. */
    private static final Instant EVERY = Instant.ofEpochMilli(Long.MAX_VALUE);

    private final transient AccessPolicy accessPolicy;
    private final transient ActivityTracker activity;

    public ActivityServlet(AccessPolicy accessPolicy, ActivityTracker activity) {
        this.accessPolicy = accessPolicy;
        this.activity = activity;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        if (!request.getRequestURI().equals(request.getServletContext().getContextPath() + MAPPING)
                || !Queries.decodes(request)) {
            Responses.json(response, Failure.BAD_REQUEST, "not a valid address");
            return;
        }
        if (!"GET".equals(request.getMethod())) {
            response.setHeader("Allow", "GET");
            Responses.json(response, Failure.METHOD_NOT_ALLOWED, "use GET to list workspace activity");
            return;
        }
        AccessDecision decision = accessPolicy.checkAdmin(request);
        switch (decision.outcome()) {
            case UNAUTHENTICATED -> {
                LOG.info("activity listing refused: {}", decision.reason());
                response.setHeader("WWW-Authenticate", "Bearer");
                Responses.json(response, Failure.UNAUTHENTICATED, decision.reason());
                return;
            }
            case FORBIDDEN -> {
                LOG.info("activity listing refused to {}: {}", decision.user(), decision.reason());
                Responses.json(response, Failure.FORBIDDEN, decision.reason());
                return;
            }
            default -> {
            }
        }
        String[] values = request.getParameterValues(INACTIVE_SINCE);
        Duration idle = values == null ? Duration.ZERO : values.length == 1 ? duration(values[0]) : null;
        if (idle == null) {
            Responses.json(response, Failure.BAD_REQUEST, INACTIVE_SINCE + " must be one duration such as 90s, 30m, 2h or 1d");
            return;
        }
        Instant now = activity.now();
        Instant cutoff = now.minus(idle);
        List<WorkspaceActivity> inactive;
        try {
            inactive = activity.inactiveSince(idle.isZero() ? EVERY : cutoff);
        } catch (RuntimeException e) {
            LOG.error("activity listing failed: the activity store cannot answer: {}", e.toString());
            response.setHeader("Retry-After", "10");
            Responses.json(response, Failure.SERVICE_UNAVAILABLE, "the activity store cannot answer; try again");
            return;
        }
        List<Map<String, Object>> workspaces = new ArrayList<>(inactive.size());
        for (WorkspaceActivity a : inactive) {
            workspaces.add(ActivityJson.of(a.workspace(), a, now));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("now", now.toString());
        body.put("cutoff", idle.isZero() ? null : cutoff.toString());
        body.put("workspaces", workspaces);
        Responses.writeJson(response, HttpServletResponse.SC_OK, body);
    }

    /** {@code 30m}, {@code 90s}, {@code 2h}, {@code 1d}, {@code 500ms}, or seconds; null when not one of those. */
    static Duration duration(String value) {
        Matcher m = DURATION.matcher(value.trim());
        if (!m.matches()) {
            return null;
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }
}

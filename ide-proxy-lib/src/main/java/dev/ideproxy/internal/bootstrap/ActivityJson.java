package dev.ideproxy.internal.bootstrap;

import dev.ideproxy.activity.WorkspaceActivity;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** The JSON of a workspace's activity, the same in both activity endpoints. */
final class ActivityJson {
    private ActivityJson() {
    }

    /**
     * {@code {"workspace":..,"lastActivity":"<ISO-8601>","idleSeconds":..,"user":..,"liveWebSockets":..}};
     * {@code lastActivity}, {@code idleSeconds} and {@code user} are null when nothing is known.
     */
    static Map<String, Object> of(String workspace, WorkspaceActivity activity, Instant now) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("workspace", workspace);
        body.put("lastActivity", activity == null ? null : activity.lastActivity().toString());
        body.put("idleSeconds", activity == null ? null
                : Math.max(0, Duration.between(activity.lastActivity(), now).toSeconds()));
        body.put("user", activity == null ? null : activity.user());
        body.put("liveWebSockets", activity == null ? 0 : activity.liveWebSockets());
        return body;
    }
}

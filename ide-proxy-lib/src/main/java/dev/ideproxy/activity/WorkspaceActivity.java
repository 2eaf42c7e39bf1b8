package dev.ideproxy.activity;

import java.time.Instant;
import java.util.Objects;

/**
 * What ide-proxy knows of one workspace's use. Activity is any HTTP request through the workspace's
 * tunnel that passed the session check, and any WebSocket frame relayed in either direction (ide-proxy's
 * own keep-alive pings and their answers do not count).
 *
 * @param workspace      the workspace id
 * @param user           the session user of the latest activity, or null when not known
 * @param lastActivity   when the workspace was last used, by the clock ide-proxy was built with; to
 *                       the second for WebSocket frames, to the millisecond for HTTP requests
 * @param liveWebSockets how many WebSockets are open to the workspace now (over every node, when a
 *                       shared {@link ActivityStore} answers)
 */
public record WorkspaceActivity(String workspace, String user, Instant lastActivity, int liveWebSockets) {

    public WorkspaceActivity {
        Objects.requireNonNull(workspace, "workspace");
        Objects.requireNonNull(lastActivity, "lastActivity");
        if (liveWebSockets < 0) {
            throw new IllegalArgumentException("liveWebSockets < 0");
        }
    }
}

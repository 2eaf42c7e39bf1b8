package dev.ideproxy.activity;

/**
 * Told when workspaces are used, for example to record the last use in the platform's own database
 * and stop idle workspaces. Register one with {@code IdeProxy.Builder.activityListener}.
 *
 * <p>ide-proxy calls it from one background thread of its own ({@code ide-proxy-activity}), never on a
 * request or for a single frame: once per {@code activity.interval} (60 s by default) it reports each
 * workspace whose activity, user or number of live WebSockets changed on this node since its last
 * report. So a workspace is reported <b>at most once per interval</b>, however busy it is. Calls never
 * overlap, so an implementation need not be thread-safe towards itself; it must return quickly (hand
 * slow work, such as a remote call, to an executor of its own), since the next workspace waits for
 * it. An exception is logged and the next report goes on.
 *
 * <p>Each node reports the activity it served. With several nodes, either register a listener on each
 * and keep the latest instant per workspace, or ask {@code GET /api/activity} of any node, which
 * answers for the fleet when the nodes share an {@link ActivityStore}.
 */
@FunctionalInterface
public interface ActivityListener {

    /**
     * @param activity the workspace's activity on this node as of now
     */
    void onActivity(WorkspaceActivity activity);
}

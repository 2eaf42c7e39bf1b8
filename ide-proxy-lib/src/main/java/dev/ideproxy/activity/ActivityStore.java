package dev.ideproxy.activity;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Workspace activity shared by several nodes behind one load balancer, so that any node answers
 * {@code GET /api/activity} and {@code GET /api/dev/{id}/activity} for the fleet: the latest activity
 * over every node wins. Without a store each node answers from its own memory (right for one node).
 * {@code ide-proxy-redis} implements it.
 *
 * <p>ide-proxy never calls the store on a request of the tunnel or for a frame: each node records its
 * activity from one background thread once per {@code activity.interval}, and the activity endpoints
 * read it.
 *
 * <p>Implementations must be thread-safe: {@link #record} runs on the background thread while
 * requests call {@link #find} and {@link #inactiveSince}. Any method may throw a
 * {@link RuntimeException} when the store cannot answer: a failed {@link #record} is tried again at
 * the next interval, a failed read answers the endpoint with 503.
 */
public interface ActivityStore {

    /**
     * Records this node's activity: the workspaces whose activity changed on this node since the last
     * call, and every workspace with live WebSockets on this node (so that their count is renewed).
     * For each workspace the store keeps the latest {@code lastActivity} it has been given by any node,
     * with its user: an older one never replaces a newer one. {@code liveWebSockets} is this node's
     * count, which replaces this node's previous one; a store should forget a node's count that was
     * not renewed within a few intervals (the node stopped without saying so).
     *
     * @param activity this node's activity; not empty
     * @param interval the node records again within this time, as long as it runs
     */
    void record(List<WorkspaceActivity> activity, Duration interval);

    /**
     * The workspace's activity over every node: its latest activity and that activity's user, and the
     * live WebSockets of every node that renewed its count in time.
     *
     * @return empty when no node recorded activity for it (within the store's retention)
     */
    Optional<WorkspaceActivity> find(String workspace);

    /**
     * Every workspace whose latest activity over every node is before {@code cutoff}, oldest first,
     * as {@link #find} would answer for each.
     */
    List<WorkspaceActivity> inactiveSince(Instant cutoff);
}

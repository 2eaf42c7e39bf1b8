/**
 * When each workspace was last used, for idle shutdown: the {@link dev.ideproxy.activity.ActivityListener}
 * extension point (told of activity once per interval), the {@link dev.ideproxy.activity.ActivityStore}
 * extension point (activity shared by several nodes; {@code ide-proxy-redis} implements it) and the
 * value both carry, {@link dev.ideproxy.activity.WorkspaceActivity}. API.
 */
package dev.ideproxy.activity;

/**
 * Workspace activity for idle shutdown: when each workspace was last used, by whom, and its live
 * WebSockets, reported once per interval to the listener and the shared store.
 *
 * <p><b>Not API.</b> Everything under {@code dev.ideproxy.internal} may change in any release; use
 * {@link dev.ideproxy.IdeProxy} and the extension points instead. Classes here are public only
 * because other internal packages or the servlet container use them.
 */
package dev.ideproxy.internal.activity;

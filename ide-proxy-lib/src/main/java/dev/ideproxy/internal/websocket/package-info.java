/**
 * The WebSocket path of the tunnel: the upgrade (upstream first, then the browser), the relay between the two sessions, keep-alive and revocation of live relays.
 *
 * <p><b>Not API.</b> Everything under {@code dev.ideproxy.internal} may change in any release; use
 * {@link dev.ideproxy.IdeProxy} and the extension points instead. Classes here are public only
 * because other internal packages or the servlet container use them.
 */
package dev.ideproxy.internal.websocket;

/**
 * The diagnostics page under each workspace's tunnel, {@code /__ide/{id}/.ide-proxy/diagnose}: a
 * static page and script that check the browser's side (secure context, session cookie, a WebSocket
 * round trip, the upstream, clock skew, what the proxy saw of the request), and the two endpoints it
 * asks: {@code diagnose/info} (JSON) and {@code diagnose/echo} (a WebSocket the proxy answers itself).
 * Nothing here contacts an upstream.
 *
 * <p><b>Not API.</b> Everything under {@code dev.ideproxy.internal} may change in any release; use
 * {@link dev.ideproxy.IdeProxy} and the extension points instead. Classes here are public only
 * because other internal packages or the servlet container use them.
 */
package dev.ideproxy.internal.diagnose;

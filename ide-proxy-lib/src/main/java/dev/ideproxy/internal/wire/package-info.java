/**
 * WebSocket bytes on the wire, for the passthrough relay: a {@code Wire} is one non-blocking byte
 * connection (the browser's upgraded servlet connection, or the upstream socket); {@code FrameScanner}
 * finds frame boundaries in a byte stream without touching the payload; {@code Frames} writes the
 * few frames the proxy inserts itself; {@code UpstreamHandshake} opens the upstream socket and
 * performs the client handshake with the browser's own key and offers.
 *
 * <p><b>Not API.</b> Everything under {@code dev.ideproxy.internal} may change in any release; use
 * {@link dev.ideproxy.IdeProxy} and the extension points instead. Classes here are public only
 * because other internal packages or the servlet container use them.
 */
package dev.ideproxy.internal.wire;

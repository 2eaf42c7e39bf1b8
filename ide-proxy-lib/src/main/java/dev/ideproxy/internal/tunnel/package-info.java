/**
 * The live tunnel under {@code /__ide/{id}/}: the filter that authenticates and resolves once, the {@code TunnelRequest} it hands on, the header policy of both paths, path checks and host mode.
 *
 * <p><b>Not API.</b> Everything under {@code dev.ideproxy.internal} may change in any release; use
 * {@link dev.ideproxy.IdeProxy} and the extension points instead. Classes here are public only
 * because other internal packages or the servlet container use them.
 */
package dev.ideproxy.internal.tunnel;

/**
 * ide-proxy's own tokens: minting and verifying bootstrap and session JWTs, and the keys that sign them.
 *
 * <p><b>Not API.</b> Everything under {@code dev.ideproxy.internal} may change in any release; use
 * {@link dev.ideproxy.IdeProxy} and the extension points instead. Classes here are public only
 * because other internal packages or the servlet container use them.
 */
package dev.ideproxy.internal.token;

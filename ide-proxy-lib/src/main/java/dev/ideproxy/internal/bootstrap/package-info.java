/**
 * The bootstrap endpoints under {@code /api/dev/{id}/}: token mint, bootstrap (token to session cookie), logout and revoke.
 *
 * <p><b>Not API.</b> Everything under {@code dev.ideproxy.internal} may change in any release; use
 * {@link dev.ideproxy.IdeProxy} and the extension points instead. Classes here are public only
 * because other internal packages or the servlet container use them.
 */
package dev.ideproxy.internal.bootstrap;

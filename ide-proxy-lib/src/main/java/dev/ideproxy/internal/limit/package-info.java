/**
 * Limits that keep one user from exhausting what everyone shares: rate limits of minting and of
 * opening sessions, per user and per workspace.
 *
 * <p><b>Not API.</b> Everything under {@code dev.ideproxy.internal} may change in any release; use
 * {@link dev.ideproxy.IdeProxy} and the extension points instead. Classes here are public only
 * because other internal packages use them.
 */
package dev.ideproxy.internal.limit;

/**
 * Liveness and readiness for load balancers and Kubernetes: {@code GET /api/health/live} and
 * {@code GET /api/health/ready}.
 *
 * <p><b>Not API.</b> Everything under {@code dev.ideproxy.internal} may change in any release; use
 * {@link dev.ideproxy.IdeProxy} and the extension points instead. Classes here are public only
 * because other internal packages or the servlet container use them.
 */
package dev.ideproxy.internal.health;

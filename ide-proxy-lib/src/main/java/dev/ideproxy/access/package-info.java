/**
 * Who may open which workspace: the {@link dev.ideproxy.access.AccessPolicy} extension point, its
 * answer, and two policies (a bearer JWT from the host application, the container's user and
 * roles). API.
 */
package dev.ideproxy.access;

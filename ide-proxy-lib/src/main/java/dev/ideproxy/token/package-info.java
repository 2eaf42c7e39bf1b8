/**
 * State that nodes may share: the {@link dev.ideproxy.token.ReplayStore} (single use of bootstrap
 * links) and {@link dev.ideproxy.token.RevocationStore} (sessions ended early) extension points, and
 * their in-memory defaults. A fleet shares them through {@code ide-proxy-redis}. API.
 */
package dev.ideproxy.token;

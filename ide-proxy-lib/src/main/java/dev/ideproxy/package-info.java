/**
 * ide-proxy's public API: {@link dev.ideproxy.IdeProxy} builds the proxy from a configuration and
 * installs it on a servlet context. The other API packages are {@code dev.ideproxy.config}
 * (options and where they are read from), {@code dev.ideproxy.access}, {@code dev.ideproxy.target}
 * and {@code dev.ideproxy.token} (extension points and their default implementations). Packages
 * under {@code dev.ideproxy.internal} are not API.
 */
package dev.ideproxy;

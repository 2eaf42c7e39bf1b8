/**
 * What ide-proxy measures: {@link dev.ideproxy.internal.telemetry.Telemetry}, the one interface the
 * choke points (bootstrap, tunnel filter, HTTP proxy, WebSocket relay, sessions, stores) report to; its
 * no-op {@link dev.ideproxy.internal.telemetry.Telemetry#NONE} without a meter registry, and
 * {@link dev.ideproxy.internal.telemetry.MicrometerTelemetry}, the only class of ide-proxy that refers to
 * Micrometer, with one. The timing decorators of the replay and revocation stores.
 *
 * <p><b>Not API.</b> Everything under {@code dev.ideproxy.internal} may change in any release; use
 * {@link dev.ideproxy.IdeProxy} and the extension points instead. Classes here are public only
 * because other internal packages or the servlet container use them.
 */
package dev.ideproxy.internal.telemetry;

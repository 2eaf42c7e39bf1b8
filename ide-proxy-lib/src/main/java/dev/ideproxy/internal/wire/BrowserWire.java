package dev.ideproxy.internal.wire;

/**
 * The browser's side of a passthrough relay: its connection, which the container hands over only
 * after the 101 went out (possibly after the servlet returned). Operations asked for before that
 * wait for it.
 *
 * <p>Implementations: {@link TomcatWire} and {@link JettyWire}; {@link BrowserWires} picks one.
 */
public interface BrowserWire extends Wire {

    /** True once the container handed the connection over. */
    boolean handedOver();
}

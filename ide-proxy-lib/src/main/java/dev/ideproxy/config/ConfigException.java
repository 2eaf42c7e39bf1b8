package dev.ideproxy.config;

/** A missing or invalid configuration value; the message names the option and says how to fix it. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}

package dev.ideproxy.config;

import jakarta.servlet.FilterConfig;
import jakarta.servlet.ServletContext;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * Where option values come from. Implementations return null for an option they do not set.
 * Thread-safe implementations only: a source is read once, at start-up.
 */
@FunctionalInterface
public interface ConfigSource {

    /** The raw value of {@code option}, or null when this source does not set it. */
    String get(ConfigOption option);

    /** Context init parameters ({@code <context-param>}, Tomcat {@code <Parameter>}), by {@link ConfigOption#key()}. */
    static ConfigSource contextParameters(ServletContext context) {
        Objects.requireNonNull(context, "context");
        return option -> context.getInitParameter(option.key());
    }

    /** Filter init parameters, by {@link ConfigOption#key()}. */
    static ConfigSource filterParameters(FilterConfig config) {
        Objects.requireNonNull(config, "config");
        return option -> config.getInitParameter(option.key());
    }

    /** Environment variables, by {@link ConfigOption#envName()}. */
    static ConfigSource environment(Map<String, String> env) {
        Map<String, String> copy = Map.copyOf(env);
        return option -> copy.get(option.envName());
    }

    /** System properties, by {@link ConfigOption#key()}. */
    static ConfigSource systemProperties(Properties properties) {
        return option -> properties.getProperty(option.key());
    }

    /** A fixed map, for programmatic configuration and tests. */
    static ConfigSource of(Map<ConfigOption, String> values) {
        Map<ConfigOption, String> copy = Map.copyOf(values);
        return copy::get;
    }

    /**
     * The standard order for a web application: context parameters, overridden by the environment,
     * overridden by system properties.
     */
    static ConfigSource standard(ServletContext context) {
        return contextParameters(context)
                .overriddenBy(environment(System.getenv()))
                .overriddenBy(systemProperties(System.getProperties()));
    }

    /** A source that asks {@code override} first and falls back to this one. */
    default ConfigSource overriddenBy(ConfigSource override) {
        Objects.requireNonNull(override, "override");
        return option -> {
            String value = override.get(option);
            return value != null ? value : get(option);
        };
    }
}

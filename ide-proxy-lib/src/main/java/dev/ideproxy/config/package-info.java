/**
 * Configuration: every option with its default ({@link dev.ideproxy.config.ConfigOption}), where
 * values come from ({@link dev.ideproxy.config.ConfigSource}), the parsed and checked whole
 * ({@link dev.ideproxy.config.IdeProxyConfig}) and what start-up throws for a bad value
 * ({@link dev.ideproxy.config.ConfigException}). API.
 */
package dev.ideproxy.config;

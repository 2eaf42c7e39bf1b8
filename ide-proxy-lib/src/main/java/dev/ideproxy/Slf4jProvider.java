package dev.ideproxy;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;

/**
 * Warns at start-up, through {@code java.util.logging}, when SLF4J has no provider. ide-proxy logs
 * through SLF4J 2; without a provider SLF4J prints one line to stderr ({@code No SLF4J providers were
 * found}) and drops every ide-proxy line after it, refusals and upstream failures included. A silent
 * refusal is worse than a warning, and {@code java.util.logging} is the one logger every JVM has.
 * A host application that chose {@code slf4j-nop} on purpose is left alone.
 */
final class Slf4jProvider {
    /** The logger the warning goes to: configure or silence it like any {@code java.util.logging} logger. */
    static final String JUL_LOGGER = "dev.ideproxy";
    static final String WARNING = "ide-proxy logs through SLF4J, but no SLF4J provider is on the class path: every"
            + " ide-proxy log line, refusals included, is dropped. Add one to the web application, e.g."
            + " org.slf4j:slf4j-jdk14 (to java.util.logging, the container's log) or ch.qos.logback:logback-classic;"
            + " see docs/library.md.";
    private static final String CHOSEN_NOP = "org.slf4j.nop.NOPServiceProvider";
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private Slf4jProvider() {
    }

    /** Logs {@link #WARNING} once per class loader when SLF4J fell back to its no-operation logger. */
    static void check() {
        if (withoutProvider() && WARNED.compareAndSet(false, true)) {
            java.util.logging.Logger.getLogger(JUL_LOGGER).log(Level.WARNING, WARNING);
        }
    }

    static boolean withoutProvider() {
        if (!(LoggerFactory.getILoggerFactory() instanceof NOPLoggerFactory)) {
            return false;
        }
        try {
            Class.forName(CHOSEN_NOP, false, LoggerFactory.class.getClassLoader());
            return false; // slf4j-nop, chosen to silence logging
        } catch (ClassNotFoundException | LinkageError e) {
            return true;
        }
    }
}

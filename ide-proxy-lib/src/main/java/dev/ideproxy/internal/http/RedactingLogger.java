package dev.ideproxy.internal.http;

import dev.ideproxy.internal.web.LogSafe;
import org.slf4j.Logger;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * The logger handed to Jetty's proxy machinery: it writes to ide-proxy's logger, but formats each
 * message first and redacts credential-like query parameters from it, since Jetty's debug messages
 * print full upstream URLs. Thread-safe.
 */
final class RedactingLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;
    private final transient Logger delegate;

    RedactingLogger(Logger delegate) {
        this.delegate = delegate;
        this.name = delegate.getName();
    }

    @Override
    public boolean isTraceEnabled() {
        return delegate.isTraceEnabled();
    }

    @Override
    public boolean isDebugEnabled() {
        return delegate.isDebugEnabled();
    }

    @Override
    public boolean isInfoEnabled() {
        return delegate.isInfoEnabled();
    }

    @Override
    public boolean isWarnEnabled() {
        return delegate.isWarnEnabled();
    }

    @Override
    public boolean isErrorEnabled() {
        return delegate.isErrorEnabled();
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String messagePattern, Object[] arguments,
                                               Throwable throwable) {
        String message = LogSafe.redactUrls(MessageFormatter.basicArrayFormat(messagePattern, arguments));
        // The throwable's message is not printed (it may quote a URL); its type is.
        String text = throwable == null ? message : message + " (" + throwable.getClass().getName() + ")";
        switch (level) {
            case ERROR -> delegate.error(text);
            case WARN -> delegate.warn(text);
            case INFO -> delegate.info(text);
            case DEBUG -> delegate.debug(text);
            default -> delegate.trace(text);
        }
    }
}

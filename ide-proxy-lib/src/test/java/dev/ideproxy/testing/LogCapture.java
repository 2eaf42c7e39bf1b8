package dev.ideproxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Captures every log line written while it is open, from both logging paths the tests have:
 * <ul>
 *   <li>SLF4J (ide-proxy and Jetty, through slf4j-simple), which writes to {@code System.err} and
 *   looks the stream up at each line: a tee installed with {@link System#setErr} sees it;</li>
 *   <li>java.util.logging (Tomcat, through JULI), whose console handler kept the original
 *   {@code System.err}: a handler on the root logger sees each record, formatted with its
 *   parameters and its exception's stack trace.</li>
 * </ul>
 * Output still reaches the console. {@link #close()} restores everything.
 */
public final class LogCapture implements AutoCloseable {
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final PrintStream originalErr = System.err;
    private final PrintStream originalOut = System.out;
    private final Handler julHandler;

    private LogCapture() {
        System.setErr(new PrintStream(new Tee(originalErr), true, StandardCharsets.UTF_8));
        System.setOut(new PrintStream(new Tee(originalOut), true, StandardCharsets.UTF_8));
        julHandler = new Handler() {
            private final SimpleFormatter formatter = new SimpleFormatter();

            @Override
            public void publish(LogRecord record) {
                StringBuilder text = new StringBuilder(record.getLoggerName() + " " + record.getLevel() + ": "
                        + formatter.formatMessage(record));
                if (record.getThrown() != null) {
                    StringWriter trace = new StringWriter();
                    record.getThrown().printStackTrace(new PrintWriter(trace));
                    text.append('\n').append(trace);
                }
                for (String line : text.toString().split("\\R")) {
                    lines.add("[jul] " + line);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        julHandler.setLevel(Level.ALL);
        Logger.getLogger("").addHandler(julHandler);
    }

    /** Starts capturing. */
    public static LogCapture start() {
        return new LogCapture();
    }

    /** Every line captured so far. */
    public List<String> lines() {
        return List.copyOf(lines);
    }

    /** A position to pass to {@link #since(int)}. */
    public int mark() {
        return lines.size();
    }

    /** The lines captured after {@code mark}. */
    public List<String> since(int mark) {
        List<String> all = lines();
        return mark >= all.size() ? List.of() : all.subList(mark, all.size());
    }

    /**
     * The lines (of {@code lines}) that contain any of {@code secrets}, with each secret replaced by
     * {@code <SECRET>} so that the report does not spread it further. Secrets shorter than 12
     * characters are ignored, since they would match by chance.
     */
    public static List<String> leaks(List<String> lines, Collection<String> secrets) {
        List<String> out = new ArrayList<>();
        for (String line : lines) {
            String shown = line;
            boolean leak = false;
            for (String secret : secrets) {
                if (secret != null && secret.length() >= 12 && line.contains(secret)) {
                    leak = true;
                    shown = shown.replace(secret, "<SECRET>");
                }
            }
            if (leak) {
                out.add(shown);
            }
        }
        return out;
    }

    @Override
    public void close() {
        Logger.getLogger("").removeHandler(julHandler);
        System.setErr(originalErr);
        System.setOut(originalOut);
    }

    /** Writes through to the original stream and collects complete lines. */
    private final class Tee extends OutputStream {
        private final PrintStream target;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        Tee(PrintStream target) {
            this.target = target;
        }

        @Override
        public synchronized void write(int b) {
            target.write(b);
            if (b == '\n') {
                emit();
            } else {
                line.write(b);
            }
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            target.write(b, off, len);
            for (int i = off; i < off + len; i++) {
                if (b[i] == '\n') {
                    emit();
                } else {
                    line.write(b[i]);
                }
            }
        }

        @Override
        public synchronized void flush() {
            target.flush();
        }

        private void emit() {
            String text = line.toString(StandardCharsets.UTF_8);
            lines.add(text.endsWith("\r") ? text.substring(0, text.length() - 1) : text);
            line.reset();
        }
    }
}

package dev.ideproxy.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One scrape of metrics in the Prometheus text format, parsed as Prometheus reads it: each sample
 * line is a metric name, its labels and a value. {@link #value} adds up the samples of one name
 * whose labels include the given ones, so a test asserts how much a counter moved between two
 * scrapes, over every series or over one combination of tags.
 */
public final class Scrape {
    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})?\\s+(\\S+)(?:\\s+\\d+)?$");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");

    private final String text;
    private final List<Sample> samples;

    private Scrape(String text, List<Sample> samples) {
        this.text = text;
        this.samples = samples;
    }

    /** Parses {@code text}; a line that is neither a comment nor a sample fails the test. */
    public static Scrape parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = LINE.matcher(line.trim());
            if (!m.matches()) {
                throw new AssertionError("not a Prometheus sample line: " + line);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                int end = 0;
                while (l.find()) {
                    if (l.start() != end) {
                        throw new AssertionError("unreadable labels: " + line);
                    }
                    labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\n", "\n").replace("\\\\", "\\"));
                    end = l.end();
                }
                if (end != m.group(2).length()) {
                    throw new AssertionError("unreadable labels: " + line);
                }
            }
            samples.add(new Sample(m.group(1), Map.copyOf(labels), Double.parseDouble(m.group(3))));
        }
        return new Scrape(text, List.copyOf(samples));
    }

    public List<Sample> samples() {
        return samples;
    }

    /** The text as scraped, for failure messages. */
    public String text() {
        return text;
    }

    /** True when some sample has this name. */
    public boolean has(String name) {
        return samples.stream().anyMatch(s -> s.name().equals(name));
    }

    /**
     * The sum of the samples named {@code name} whose labels include {@code labels} (given as
     * name, value, name, value...); 0 when there is none (a series not created yet counts as 0).
     */
    public double value(String name, String... labels) {
        if (labels.length % 2 != 0) {
            throw new IllegalArgumentException("labels come in name, value pairs");
        }
        double sum = 0;
        for (Sample s : samples) {
            if (!s.name().equals(name)) {
                continue;
            }
            boolean matches = true;
            for (int i = 0; i < labels.length && matches; i += 2) {
                matches = labels[i + 1].equals(s.labels().get(labels[i]));
            }
            if (matches) {
                sum += s.value();
            }
        }
        return sum;
    }

    /** How much {@link #value} moved from {@code before} to this scrape. */
    public double delta(Scrape before, String name, String... labels) {
        return value(name, labels) - before.value(name, labels);
    }
}

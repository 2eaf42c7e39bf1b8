package dev.ideproxy.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the raw results of one run ({@code target scenario metric value} lines, plus {@code # ...}
 * comment lines describing the run) into Markdown tables: absolute figures, ratios, the targets of
 * issue 14 with whether each is met, and the guards kept from issue 7. Targets {@code jetty-msg} and
 * {@code tomcat-msg} (the same containers with {@code websocket.mode=message}) get columns of their
 * own when the run measured them. Usage: {@code BenchReport RAW_FILE}.
 */
public final class BenchReport {
    /** The targets every report shows, measured or not. */
    static final List<String> BASE_TARGETS = List.of("direct", "nginx", "node", "jetty", "tomcat");
    /** Extra ide-proxy targets, shown only when the run measured them. */
    static final List<String> MODE_TARGETS = List.of("jetty-msg", "tomcat-msg");
    /** The containers of the redis group. */
    static final List<String> CONTAINERS = List.of("jetty", "tomcat");
    static final Map<String, String> TARGET_NAMES = Map.of("direct", "direct", "nginx", "nginx",
            "node", "http-proxy (Node)", "jetty", "ide-proxy Jetty", "tomcat", "ide-proxy Tomcat",
            "jetty-msg", "ide-proxy Jetty, websocket.mode=message",
            "tomcat-msg", "ide-proxy Tomcat, websocket.mode=message");
    /** Column names of the ratio table. */
    static final Map<String, String> SHORT_NAMES = Map.of("direct", "direct", "nginx", "nginx",
            "node", "http-proxy", "jetty", "Jetty", "tomcat", "Tomcat",
            "jetty-msg", "Jetty msg", "tomcat-msg", "Tomcat msg");

    /** One measured figure. higherIsBetter decides nothing here but is printed with the ratio. */
    record Row(String key, String label, boolean higherIsBetter) {
    }

    static final List<Row> ROWS = List.of(
            new Row("http.rps", "HTTP 1 KiB GET, 32 connections (req/s)", true),
            new Row("http.cpu_us_per_req", "HTTP 1 KiB GET, 32 connections: proxy CPU per request (µs)", false),
            new Row("lat.p50_us", "HTTP 1 KiB GET, 1 connection, p50 (µs)", false),
            new Row("lat.p99_us", "HTTP 1 KiB GET, 1 connection, p99 (µs)", false),
            new Row("down.mbps", "download 1 GiB (MB/s)", true),
            new Row("down.heap_growth_mib", "download: live-heap growth (MiB)", false),
            new Row("down.heap_after_gc_growth_mib", "download: heap-after-any-GC growth (MiB)", false),
            new Row("up.mbps", "upload 256 MiB (MB/s)", true),
            new Row("up.heap_growth_mib", "upload: live-heap growth (MiB)", false),
            new Row("up.heap_after_gc_growth_mib", "upload: heap-after-any-GC growth (MiB)", false),
            new Row("wsecho.p50_us", "WebSocket echo 64 B, p50 (µs)", false),
            new Row("wsecho.p99_us", "WebSocket echo 64 B, p99 (µs)", false),
            new Row("wsdown.mbps", "WebSocket bulk 1 MiB messages, upstream→browser (MB/s)", true),
            new Row("wsup.mbps", "WebSocket bulk 1 MiB messages, browser→upstream (MB/s)", true),
            new Row("wsidle.opened", "idle WebSocket sessions opened", true),
            new Row("wsidle.alive", "idle sessions alive after the hold (answered an echo)", true),
            new Row("wsidle.open_seconds", "time to open them (s)", false),
            new Row("wsidle.heap_per_session_kib", "proxy live heap per idle session (KiB)", false),
            new Row("wsidle.rss_per_session_kib", "proxy resident memory per idle session (KiB)", false));

    /** How a figure compares with its bound. */
    enum Bound {
        AT_LEAST("≥"), ABOVE(">"), AT_MOST("≤"), BELOW("<");

        final String symbol;

        Bound(String symbol) {
            this.symbol = symbol;
        }

        boolean met(double value, double limit) {
            return switch (this) {
                case AT_LEAST -> value >= limit;
                case ABOVE -> value > limit;
                case AT_MOST -> value <= limit;
                case BELOW -> value < limit;
            };
        }
    }

    /** "# load average before|after PHASE: 1 5 15", as bench/run writes it around each phase. */
    private static final Pattern LOAD_AVERAGE = Pattern.compile("load average (before|after) (\\S+): (.*)");

    public static void main(String[] args) throws Exception {
        Map<String, Double> values = new HashMap<>();
        List<String> notes = new ArrayList<>();
        Map<String, String[]> loadAverages = new LinkedHashMap<>(); // phase -> {before, after}
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (line.startsWith("#")) {
                String note = line.substring(1).trim();
                Matcher load = LOAD_AVERAGE.matcher(note);
                if (load.matches()) {
                    loadAverages.computeIfAbsent(load.group(2), phase -> new String[2])
                            [load.group(1).equals("before") ? 0 : 1] = load.group(3);
                } else {
                    notes.add(note);
                }
                continue;
            }
            String[] p = line.trim().split("\\s+");
            if (p.length == 4) {
                try {
                    values.put(p[0] + "." + p[1] + "." + p[2], Double.parseDouble(p[3]));
                } catch (NumberFormatException e) {
                    // not a figure
                }
            }
        }
        StringBuilder out = new StringBuilder();
        for (String note : notes) {
            out.append("- ").append(note).append('\n');
        }
        if (!loadAverages.isEmpty()) {
            out.append("- load average (1, 5, 15 min), before → after:");
            String separator = " ";
            for (Map.Entry<String, String[]> phase : loadAverages.entrySet()) {
                String[] ba = phase.getValue();
                out.append(separator).append(phase.getKey()).append(' ').append(ba[0] == null ? "?" : ba[0])
                        .append(" → ").append(ba[1] == null ? "?" : ba[1]);
                separator = "; ";
            }
            out.append('\n');
        }
        List<String> targets = new ArrayList<>(BASE_TARGETS);
        List<String> proxies = new ArrayList<>(CONTAINERS);
        for (String t : MODE_TARGETS) {
            if (values.keySet().stream().anyMatch(key -> key.startsWith(t + "."))) {
                targets.add(t);
                proxies.add(t);
            }
        }
        boolean anyTargetFigure = ROWS.stream().anyMatch(row -> any(values, targets, row.key));
        if (anyTargetFigure) { // not when only the redis group ran
            out.append("\n### Absolute figures\n\n| scenario |");
            for (String t : targets) {
                out.append(' ').append(TARGET_NAMES.get(t)).append(" |");
            }
            out.append("\n|---|");
            out.append("---:|".repeat(targets.size())).append('\n');
            for (Row row : ROWS) {
                if (!any(values, targets, row.key)) {
                    continue;
                }
                out.append("| ").append(row.label).append(" |");
                for (String t : targets) {
                    Double v = values.get(t + "." + row.key);
                    out.append(' ').append(v == null ? "–" : num(v)).append(" |");
                }
                out.append('\n');
            }

            // Each proxy against each reference, and http-proxy against nginx for scale.
            List<String[]> pairs = new ArrayList<>();
            for (String ref : new String[] {"nginx", "direct", "node"}) {
                for (String proxy : proxies) {
                    pairs.add(new String[] {proxy, ref});
                }
            }
            pairs.add(new String[] {"node", "nginx"});
            out.append("\n### Ratios (proxy ÷ reference, same run)\n\n| scenario |");
            for (String[] pair : pairs) {
                out.append(' ').append(SHORT_NAMES.get(pair[0])).append(" ÷ ").append(SHORT_NAMES.get(pair[1])).append(" |");
            }
            out.append("\n|---|").append("---:|".repeat(pairs.size())).append('\n');
            for (Row row : ROWS) {
                if (!row.key.endsWith("mbps") && !row.key.endsWith("rps") && !row.key.endsWith("_us")
                        && !row.key.endsWith("_per_req")) {
                    continue;
                }
                if (!any(values, targets, row.key)) {
                    continue;
                }
                out.append("| ").append(row.label).append(" |");
                for (String[] pair : pairs) {
                    out.append(' ').append(ratio(values, pair[0], pair[1], row.key)).append(" |");
                }
                out.append('\n');
            }

            Table goals = new Table("Targets of issue 14", out, values, targets, proxies);
            goals.relative("WebSocket round trip p50", "wsecho.p50_us", Bound.AT_MOST, 1.3, "nginx");
            goals.relative("WebSocket round trip p50", "wsecho.p50_us", Bound.BELOW, 1, "node");
            goals.relative("WebSocket round trip p99", "wsecho.p99_us", Bound.AT_MOST, 2, "nginx");
            goals.relative("WebSocket bulk upstream→browser", "wsdown.mbps", Bound.AT_LEAST, 0.85, "nginx");
            goals.relative("WebSocket bulk upstream→browser", "wsdown.mbps", Bound.ABOVE, 1, "node");
            goals.relative("WebSocket bulk browser→upstream", "wsup.mbps", Bound.AT_LEAST, 0.85, "nginx");
            goals.relative("WebSocket bulk browser→upstream", "wsup.mbps", Bound.ABOVE, 1, "node");
            goals.absolute("live heap per idle WebSocket session", "wsidle.heap_per_session_kib", Bound.AT_MOST, 48, "KiB");
            goals.relative("HTTP throughput", "http.rps", Bound.AT_LEAST, 0.6, "nginx");
            goals.relative("HTTP throughput", "http.rps", Bound.AT_LEAST, 2.5, "node");
            goals.relative("HTTP latency p50", "lat.p50_us", Bound.AT_MOST, 1.4, "nginx");
            goals.relative("HTTP proxy CPU per request", "http.cpu_us_per_req", Bound.AT_MOST, 2.5, "nginx");
            goals.relative("download", "down.mbps", Bound.AT_LEAST, 0.8, "nginx");
            goals.relative("upload", "up.mbps", Bound.AT_LEAST, 0.8, "nginx");

            Table guards = new Table("Guards kept from issue 7", out, values, targets, proxies);
            guards.absolute("download: live-heap growth", "down.heap_growth_mib", Bound.BELOW, 64, "MiB");
            guards.absolute("upload: live-heap growth", "up.heap_growth_mib", Bound.BELOW, 64, "MiB");
            guards.alive();
        }
        redis(out, values);
        System.out.print(out);
    }

    /**
     * A table of targets: per ide-proxy target, the figure and whether it meets its bound. A row whose
     * figure no target has is left out, and a table without rows is not printed at all.
     */
    private static final class Table {
        private final String title;
        private final StringBuilder out;
        private final Map<String, Double> values;
        private final List<String> targets;
        private final List<String> proxies;
        private boolean started;

        Table(String title, StringBuilder out, Map<String, Double> values, List<String> targets, List<String> proxies) {
            this.title = title;
            this.out = out;
            this.values = values;
            this.targets = targets;
            this.proxies = proxies;
        }

        /** False when no target has {@code key}; otherwise prints the header if not yet done. */
        private boolean row(String key) {
            if (!any(values, targets, key)) {
                return false;
            }
            if (!started) {
                started = true;
                out.append("\n### ").append(title).append("\n\n| target |");
                for (String proxy : proxies) {
                    out.append(' ').append(TARGET_NAMES.get(proxy)).append(" | met |");
                }
                out.append("\n|---|").append("---:|:-:|".repeat(proxies.size())).append('\n');
            }
            return true;
        }

        /** The proxy's figure divided by the reference's, against {@code factor}. */
        void relative(String label, String key, Bound bound, double factor, String ref) {
            if (!row(key)) {
                return;
            }
            out.append("| ").append(label).append(' ').append(bound.symbol).append(' ').append(factor(factor))
                    .append("× ").append(SHORT_NAMES.get(ref)).append(" |");
            for (String proxy : proxies) {
                Double a = values.get(proxy + "." + key);
                Double b = values.get(ref + "." + key);
                if (a == null || b == null || b == 0) {
                    out.append(" – | – |");
                    continue;
                }
                double r = a / b;
                out.append(String.format(Locale.ROOT, " %.2f× (%s vs %s) | %s |", r, num(a), num(b),
                        bound.met(r, factor) ? "yes" : "**no**"));
            }
            out.append('\n');
        }

        /** The proxy's figure itself, against {@code limit}. */
        void absolute(String label, String key, Bound bound, double limit, String unit) {
            if (!row(key)) {
                return;
            }
            out.append("| ").append(label).append(' ').append(bound.symbol).append(' ').append(factor(limit))
                    .append(' ').append(unit).append(" |");
            for (String proxy : proxies) {
                Double a = values.get(proxy + "." + key);
                out.append(a == null ? " – | – |"
                        : " " + num(a) + " " + unit + " | " + (bound.met(a, limit) ? "yes" : "**no**") + " |");
            }
            out.append('\n');
        }

        void alive() {
            if (!row("wsidle.alive")) {
                return;
            }
            out.append("| 8,000 idle sessions all alive |");
            for (String proxy : proxies) {
                Double alive = values.get(proxy + ".wsidle.alive");
                Double wanted = values.get(proxy + ".wsidle.wanted");
                if (alive == null || wanted == null) {
                    out.append(" – | – |");
                    continue;
                }
                out.append(' ').append(num(alive)).append(" of ").append(num(wanted)).append(" | ")
                        .append(alive >= wanted && wanted >= 8000 ? "yes" : "**no**").append(" |");
            }
            out.append('\n');
        }
    }

    static final List<Row> REDIS_ROWS = List.of(
            new Row("boot.pairs_per_s", "mint + bootstrap pairs per second (concurrent workers)", true),
            new Row("boot.mint_per_s", "mints per second (a batch, same workers)", true),
            new Row("boot.boot_per_s", "bootstraps per second (redeeming that batch)", true),
            new Row("boot.mint_p50_us", "mint, one at a time, p50 (µs)", false),
            new Row("boot.mint_p99_us", "mint, one at a time, p99 (µs)", false),
            new Row("boot.boot_p50_us", "bootstrap, one at a time, p50 (µs)", false),
            new Row("boot.boot_p99_us", "bootstrap, one at a time, p99 (µs)", false),
            new Row("tunnel.rps", "tunnel HTTP 1 KiB GET, 32 connections (req/s)", true),
            new Row("tunnel.cpu_us_per_req", "tunnel: proxy CPU per request (µs)", false),
            new Row("tunnel.redis_cmds_per_1k_req", "tunnel: Redis commands per 1,000 requests (all clients)", false));

    /** The redis group: each container's proxy with in-memory stores against the same with Redis stores. */
    private static void redis(StringBuilder out, Map<String, Double> values) {
        boolean any = false;
        for (Row row : REDIS_ROWS) {
            for (String proxy : CONTAINERS) {
                any |= values.containsKey(proxy + "-redis." + row.key);
            }
        }
        if (!any) {
            return;
        }
        out.append("\n### Several nodes: stores in Redis against in memory (same run, alternating)\n\n| scenario |");
        for (String proxy : CONTAINERS) {
            String name = TARGET_NAMES.get(proxy);
            out.append(' ').append(name).append(", in memory | ").append(name).append(", Redis | Redis ÷ memory |");
        }
        out.append("\n|---|").append("---:|---:|---:|".repeat(CONTAINERS.size())).append('\n');
        for (Row row : REDIS_ROWS) {
            out.append("| ").append(row.label).append(" |");
            for (String proxy : CONTAINERS) {
                Double memory = values.get(proxy + "." + row.key);
                Double redis = values.get(proxy + "-redis." + row.key);
                boolean small = row.key.endsWith("redis_cmds_per_1k_req");
                out.append(' ').append(memory == null ? "–" : small ? fmt2(memory) : num(memory)).append(" | ")
                        .append(redis == null ? "–" : small ? fmt2(redis) : num(redis)).append(" | ")
                        .append(memory == null || redis == null || memory == 0 || row.key.endsWith("redis_cmds_per_1k_req")
                                ? "–" : String.format(Locale.ROOT, "%.2f", redis / memory)).append(" |");
            }
            out.append('\n');
        }
        for (String proxy : CONTAINERS) {
            Double m50 = values.get(proxy + ".boot.boot_p50_us");
            Double r50 = values.get(proxy + "-redis.boot.boot_p50_us");
            Double m99 = values.get(proxy + ".boot.boot_p99_us");
            Double r99 = values.get(proxy + "-redis.boot.boot_p99_us");
            if (m50 != null && r50 != null && m99 != null && r99 != null) {
                out.append(String.format(Locale.ROOT, "%nLatency Redis adds to a bootstrap on %s: p50 %+.0f µs, p99 %+.0f µs.%n",
                        TARGET_NAMES.get(proxy), r50 - m50, r99 - m99));
            }
        }
    }

    private static boolean any(Map<String, Double> values, List<String> targets, String key) {
        for (String t : targets) {
            if (values.containsKey(t + "." + key)) {
                return true;
            }
        }
        return false;
    }

    private static String ratio(Map<String, Double> values, String proxy, String ref, String key) {
        Double a = values.get(proxy + "." + key);
        Double b = values.get(ref + "." + key);
        return a == null || b == null || b == 0 ? "–" : String.format(Locale.ROOT, "%.2f", a / b);
    }

    /** A bound as written in the issue: 1.3, 0.85, 2, 48. */
    private static String factor(double v) {
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    private static String fmt2(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    static String num(double v) {
        if (Math.abs(v) >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private BenchReport() {
    }
}

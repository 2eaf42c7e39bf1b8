package dev.ideproxy.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the raw results of one run ({@code target scenario metric value} lines, plus {@code # ...}
 * comment lines describing the run) into Markdown tables: absolute figures, ratios, and the targets
 * of issue 7 with whether each is met. Usage: {@code BenchReport RAW_FILE}.
 */
public final class BenchReport {
    static final String[] TARGETS = {"direct", "nginx", "node", "jetty", "tomcat"};
    static final Map<String, String> TARGET_NAMES = Map.of("direct", "direct", "nginx", "nginx",
            "node", "http-proxy (Node)", "jetty", "ide-proxy Jetty", "tomcat", "ide-proxy Tomcat");
    static final String[] PROXIES = {"jetty", "tomcat"};

    /** One measured figure. higherIsBetter decides nothing here but is printed with the ratio. */
    record Row(String key, String label, boolean higherIsBetter) {
    }

    static final List<Row> ROWS = List.of(
            new Row("http.rps", "HTTP 1 KiB GET, 32 connections (req/s)", true),
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

    public static void main(String[] args) throws Exception {
        Map<String, Double> values = new HashMap<>();
        List<String> notes = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            if (line.startsWith("#")) {
                notes.add(line.substring(1).trim());
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
        boolean anyTargetFigure = ROWS.stream().anyMatch(row -> any(values, row.key));
        if (anyTargetFigure) { // not when only the redis group ran
            out.append("\n### Absolute figures\n\n| scenario |");
            for (String t : TARGETS) {
                out.append(' ').append(TARGET_NAMES.get(t)).append(" |");
            }
            out.append("\n|---|");
            out.append("---:|".repeat(TARGETS.length)).append('\n');
            for (Row row : ROWS) {
                if (!any(values, row.key)) {
                    continue;
                }
                out.append("| ").append(row.label).append(" |");
                for (String t : TARGETS) {
                    Double v = values.get(t + "." + row.key);
                    out.append(' ').append(v == null ? "–" : num(v)).append(" |");
                }
                out.append('\n');
            }

            out.append("\n### Ratios (ide-proxy ÷ reference, same run)\n\n| scenario | Jetty ÷ nginx | Tomcat ÷ nginx"
                    + " | Jetty ÷ direct | Tomcat ÷ direct | Jetty ÷ http-proxy | Tomcat ÷ http-proxy |\n|---|---:|---:|---:|---:|---:|---:|\n");
            for (Row row : ROWS) {
                if (!row.key.endsWith("mbps") && !row.key.endsWith("rps") && !row.key.endsWith("_us")) {
                    continue;
                }
                if (!any(values, row.key)) {
                    continue;
                }
                out.append("| ").append(row.label).append(" |");
                for (String ref : new String[] {"nginx", "direct", "node"}) {
                    for (String proxy : PROXIES) {
                        out.append(' ').append(ratio(values, proxy, ref, row.key)).append(" |");
                    }
                }
                out.append('\n');
            }

            out.append("\n### Targets of issue 7\n\n| target | ide-proxy Jetty | met | ide-proxy Tomcat | met |\n|---|---:|:-:|---:|:-:|\n");
            target(out, values, "HTTP throughput ≥ 0.8× nginx", "http.rps", "nginx", 0.8, true);
            target(out, values, "HTTP latency p50 ≤ 1.25× nginx", "lat.p50_us", "nginx", 1.25, false);
            target(out, values, "download ≥ 0.8× nginx", "down.mbps", "nginx", 0.8, true);
            target(out, values, "upload ≥ 0.8× nginx", "up.mbps", "nginx", 0.8, true);
            absolute(out, values, "download: live-heap growth < 64 MiB", "down.heap_growth_mib", 64, " MiB");
            absolute(out, values, "upload: live-heap growth < 64 MiB", "up.heap_growth_mib", 64, " MiB");
            target(out, values, "WebSocket round trip p50 ≤ 1.25× nginx", "wsecho.p50_us", "nginx", 1.25, false);
            target(out, values, "WebSocket bulk ≥ 0.8× nginx (upstream→browser)", "wsdown.mbps", "nginx", 0.8, true);
            target(out, values, "WebSocket bulk ≥ 0.8× nginx (browser→upstream)", "wsup.mbps", "nginx", 0.8, true);
            alive(out, values);
            absolute(out, values, "≤ 48 KiB of heap per idle session", "wsidle.heap_per_session_kib", 48.0001, " KiB");
            target(out, values, "HTTP throughput ≥ 2× http-proxy (Node)", "http.rps", "node", 2.0, true);
            target(out, values, "WebSocket round trip p50 ≤ 1× http-proxy (Node; issue 14)", "wsecho.p50_us", "node", 1.0, false);
            target(out, values, "WebSocket bulk ≥ 1× http-proxy (Node; issue 14), upstream→browser", "wsdown.mbps", "node", 1.0, true);
            target(out, values, "WebSocket bulk ≥ 1× http-proxy (Node; issue 14), browser→upstream", "wsup.mbps", "node", 1.0, true);
        }
        redis(out, values);
        System.out.print(out);
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
            for (String proxy : PROXIES) {
                any |= values.containsKey(proxy + "-redis." + row.key);
            }
        }
        if (!any) {
            return;
        }
        out.append("\n### Several nodes: stores in Redis against in memory (same run, alternating)\n\n| scenario |");
        for (String proxy : PROXIES) {
            String name = TARGET_NAMES.get(proxy);
            out.append(' ').append(name).append(", in memory | ").append(name).append(", Redis | Redis ÷ memory |");
        }
        out.append("\n|---|").append("---:|---:|---:|".repeat(PROXIES.length)).append('\n');
        for (Row row : REDIS_ROWS) {
            out.append("| ").append(row.label).append(" |");
            for (String proxy : PROXIES) {
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
        for (String proxy : PROXIES) {
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

    private static boolean any(Map<String, Double> values, String key) {
        for (String t : TARGETS) {
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

    private static void target(StringBuilder out, Map<String, Double> values, String label, String key, String ref,
                               double bound, boolean atLeast) {
        if (!any(values, key)) {
            return;
        }
        out.append("| ").append(label).append(" |");
        for (String proxy : PROXIES) {
            Double a = values.get(proxy + "." + key);
            Double b = values.get(ref + "." + key);
            if (a == null || b == null || b == 0) {
                out.append(" – | – |");
                continue;
            }
            double r = a / b;
            boolean met = atLeast ? r >= bound : r <= bound;
            out.append(String.format(Locale.ROOT, " %.2f× (%s vs %s) | %s |", r, num(a), num(b), met ? "yes" : "**no**"));
        }
        out.append('\n');
    }

    private static void absolute(StringBuilder out, Map<String, Double> values, String label, String key,
                                 double below, String unit) {
        if (!any(values, key)) {
            return;
        }
        out.append("| ").append(label).append(" |");
        for (String proxy : PROXIES) {
            Double a = values.get(proxy + "." + key);
            out.append(a == null ? " – | – |" : " " + num(a) + unit + " | " + (a < below ? "yes" : "**no**") + " |");
        }
        out.append('\n');
    }

    private static void alive(StringBuilder out, Map<String, Double> values) {
        if (!any(values, "wsidle.alive")) {
            return;
        }
        out.append("| 8,000 idle sessions all alive |");
        for (String proxy : PROXIES) {
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

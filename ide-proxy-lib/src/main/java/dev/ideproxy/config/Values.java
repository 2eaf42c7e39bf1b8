package dev.ideproxy.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parsers for durations and sizes written the way operators write them. */
final class Values {
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB|KB|MB|GB|k|m|g)?", Pattern.CASE_INSENSITIVE);

    private Values() {
    }

    /** {@code 0}, {@code 500ms}, {@code 60s}, {@code 5m}, {@code 8h}, {@code 1d} or ISO-8601 such as {@code PT60S}. */
    static Duration duration(ConfigOption option, String raw) {
        String value = raw.trim();
        if (value.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = DURATION.matcher(value);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        try {
            Duration d = Duration.parse(value.toUpperCase(Locale.ROOT));
            if (!d.isNegative()) {
                return d;
            }
        } catch (DateTimeParseException ignored) {
            // fall through to the error below
        }
        throw new ConfigException(option.key() + " = '" + raw
                + "' is not a duration: write e.g. 500ms, 60s, 5m, 8h, 1d or PT60S");
    }

    /** {@code 1024}, {@code 64KiB}, {@code 64MiB}, {@code 1GiB} (KB/MB/GB are read as binary units too). */
    static long size(ConfigOption option, String raw) {
        Matcher m = SIZE.matcher(raw.trim());
        if (!m.matches()) {
            throw new ConfigException(option.key() + " = '" + raw + "' is not a size: write e.g. 65536, 64KiB or 64MiB");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "b" : m.group(2).toLowerCase(Locale.ROOT);
        return switch (unit.charAt(0)) {
            case 'k' -> n << 10;
            case 'm' -> n << 20;
            case 'g' -> n << 30;
            default -> n;
        };
    }

    static int positiveInt(ConfigOption option, String raw) {
        try {
            int n = Integer.parseInt(raw.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // fall through
        }
        throw new ConfigException(option.key() + " = '" + raw + "' must be a positive whole number");
    }

    static boolean bool(ConfigOption option, String raw) {
        return switch (raw.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw new ConfigException(option.key() + " = '" + raw + "' must be true or false");
        };
    }

    /** {@code count/period} (e.g. {@code 30/1m}), or null for {@code 0} (no limit). */
    static IdeProxyConfig.Rate rate(ConfigOption option, String raw) {
        if (raw.equals("0")) {
            return null;
        }
        int slash = raw.indexOf('/');
        if (slash > 0) {
            try {
                int count = Integer.parseInt(raw.substring(0, slash).trim());
                Duration period = duration(option, raw.substring(slash + 1).trim());
                if (count > 0 && !period.isZero()) {
                    return new IdeProxyConfig.Rate(count, period);
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new ConfigException(option.key() + " = '" + raw + "' must be count/period, e.g. 30/1m, or 0 for no limit");
    }

    /** A count of zero or more (zero: no limit). */
    static int count(ConfigOption option, String raw) {
        try {
            int n = Integer.parseInt(raw.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ConfigException(option.key() + " = '" + raw + "' must be a whole number, 0 for no limit");
    }
}

package dev.ideproxy.internal.web;

import jakarta.servlet.http.HttpServletRequest;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes request data fit for a log line: query parameters that may carry credentials (the bootstrap
 * {@code token}, and any name containing token, secret, password, key, auth, code, session, ticket or
 * sig) have their values replaced by {@value #REDACTED}; control characters are escaped so a request
 * cannot forge log lines; long values are cut. Stateless and thread-safe.
 */
public final class LogSafe {
    /** What a redacted value is replaced with. */
    public static final String REDACTED = "<redacted>";
    /** Longest text kept from a request value. */
    public static final int MAX_CHARS = 300;

    private static final Pattern SENSITIVE_NAME = Pattern.compile(
            "token|secret|passw|key|auth|code|session|ticket|sig|jwt|credential", Pattern.CASE_INSENSITIVE);
    /** A query parameter inside any text: name=value after '?' or '&'. */
    private static final Pattern PARAMETER = Pattern.compile("([?&;]|^)([^=&?#\\s]+)=([^&#\\s\"']*)");

    private LogSafe() {
    }

    /** The request's path and query as received, with sensitive parameter values redacted. */
    public static String uri(HttpServletRequest request) {
        String query = request.getQueryString();
        return clean(request.getRequestURI() + (query == null ? "" : "?" + redactQuery(query)));
    }

    /** A raw query string with the values of sensitive parameters replaced. */
    public static String redactQuery(String rawQuery) {
        if (rawQuery == null) {
            return null;
        }
        StringBuilder sb = new StringBuilder(rawQuery.length());
        for (String pair : rawQuery.split("&", -1)) {
            if (sb.length() > 0) {
                sb.append('&');
            }
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            sb.append(eq >= 0 && isSensitive(name) ? name + "=" + REDACTED : pair);
        }
        return sb.toString();
    }

    /** Any text holding URLs (e.g. a library's log message): sensitive parameter values redacted. */
    public static String redactUrls(String text) {
        if (text == null || text.indexOf('=') < 0) {
            return text;
        }
        Matcher m = PARAMETER.matcher(text);
        StringBuilder sb = new StringBuilder(text.length());
        while (m.find()) {
            String replacement = isSensitive(m.group(2)) ? m.group(1) + m.group(2) + "=" + REDACTED : m.group();
            m.appendReplacement(sb, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    /** An exception for a log line: URLs' sensitive parameters redacted, control characters escaped. */
    public static String safe(Throwable t) {
        return clean(redactUrls(String.valueOf(t)));
    }

    /** Control characters escaped as {@code \\uXXXX}, cut to {@value #MAX_CHARS} characters. */
    public static String clean(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder sb = new StringBuilder(Math.min(text.length(), MAX_CHARS) + 8);
        for (int i = 0; i < text.length() && sb.length() < MAX_CHARS; i++) {
            char c = text.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        if (sb.length() >= MAX_CHARS && text.length() > MAX_CHARS) {
            sb.append("...");
        }
        return sb.toString();
    }

    static boolean isSensitive(String name) {
        String decoded;
        try {
            // The container decodes parameter names too: %74oken is the token parameter.
            decoded = java.net.URLDecoder.decode(name, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            decoded = name;
        }
        return SENSITIVE_NAME.matcher(decoded).find() || SENSITIVE_NAME.matcher(name).find();
    }
}

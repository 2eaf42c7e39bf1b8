package dev.ideproxy.internal.diagnose;

import dev.ideproxy.internal.diagnose.Diagnostics.SessionState;
import dev.ideproxy.internal.web.BrowserHost;
import dev.ideproxy.internal.web.TrustedProxies;
import jakarta.servlet.http.HttpServletRequest;
import java.time.Clock;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiPredicate;

/**
 * The body of {@code diagnose/info}: whether a valid session for this workspace came with the request,
 * the proxy's time, and, only with a valid session, what the proxy saw of this very request (Host,
 * Origin, scheme, the forwarding headers and what it concluded from them). Without a valid session it
 * says {@code "session":"none"} (or {@code "unavailable"}) and the time, which the {@code Date} header
 * gives anyway: nothing about the workspace. Never a cookie value, a token, a user or an upstream
 * address. Immutable and thread-safe.
 */
final class InfoReport {
    /** Forwarding headers reported, at most. */
    static final int MAX_FORWARDED_HEADERS = 10;
    /** Longest header value reported, in characters. */
    static final int MAX_VALUE = 300;

    private final BiPredicate<String, String> originCheck;
    private final TrustedProxies trustedProxies;
    private final Clock clock;

    InfoReport(BiPredicate<String, String> originCheck, TrustedProxies trustedProxies, Clock clock) {
        this.originCheck = originCheck;
        this.trustedProxies = trustedProxies;
        this.clock = clock;
    }

    Map<String, Object> of(SessionState session, HttpServletRequest request) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("session", session.name().toLowerCase(Locale.ROOT));
        body.put("serverTime", clock.millis());
        if (session == SessionState.VALID) {
            body.put("request", seen(request));
        }
        return body;
    }

    private Map<String, Object> seen(HttpServletRequest request) {
        Map<String, Object> seen = new LinkedHashMap<>();
        String host = BrowserHost.of(request);
        String origin = request.getHeader("Origin");
        seen.put("host", cut(host));
        seen.put("origin", cut(origin));
        seen.put("scheme", request.getScheme());
        seen.put("containerSawHttps", request.isSecure());
        seen.put("forwardedHeadersTrusted", trustedProxies.trusts(request.getRemoteAddr()));
        seen.put("browserUsedHttps", trustedProxies.browserUsedHttps(request));
        seen.put("forwardedHeaders", forwardedHeaders(request));
        seen.put("webSocketOriginAllowed", originCheck.test(origin, host));
        return seen;
    }

    /** {@code Forwarded} and every {@code X-Forwarded-*} header, as received, under their lower-case names. */
    private static Map<String, String> forwardedHeaders(HttpServletRequest request) {
        Map<String, String> headers = new TreeMap<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            String lower = name.toLowerCase(Locale.ROOT);
            if ((lower.equals("forwarded") || lower.startsWith("x-forwarded-")) && !headers.containsKey(lower)
                    && headers.size() < MAX_FORWARDED_HEADERS) {
                headers.put(lower, cut(String.join(", ", Collections.list(request.getHeaders(name)))));
            }
        }
        return headers;
    }

    private static String cut(String value) {
        return value == null || value.length() <= MAX_VALUE ? value : value.substring(0, MAX_VALUE) + "...";
    }
}

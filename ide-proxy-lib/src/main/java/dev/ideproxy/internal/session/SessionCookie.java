package dev.ideproxy.internal.session;

import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.config.IdeProxyConfig.CookieSecure;
import dev.ideproxy.internal.web.TrustedProxies;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import dev.ideproxy.internal.token.TokenService.Minted;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes and reads the session cookie: HttpOnly, scoped to one workspace's tunnel path, Secure and
 * SameSite as configured. Its value is a signed session token. Thread-safe.
 */
public final class SessionCookie {
    private final String name;
    private final CookieSecure secure;
    private final String sameSite;
    private final TrustedProxies trustedProxies;

    /** A cookie whose {@code auto} Secure follows the container's view of the request only. */
    public SessionCookie(IdeProxyConfig config) {
        this(config, TrustedProxies.NONE);
    }

    /** A cookie whose {@code auto} Secure also believes a trusted proxy's {@code X-Forwarded-Proto: https}. */
    public SessionCookie(IdeProxyConfig config, TrustedProxies trustedProxies) {
        this.name = config.cookieName();
        this.secure = config.cookieSecure();
        this.sameSite = config.cookieSameSite();
        this.trustedProxies = java.util.Objects.requireNonNull(trustedProxies, "trustedProxies");
    }

    public String name() {
        return name;
    }

    /** The {@code Set-Cookie} value that stores {@code token} for {@code path}. */
    public String setCookieHeader(HttpServletRequest request, String path, String token, Duration maxAge) {
        return header(request, path, token, maxAge.toSeconds());
    }

    /**
     * The {@code Set-Cookie} value that stores a freshly minted session token for {@code path}, kept
     * by the browser exactly as long as the token is valid (token expiries are whole seconds).
     */
    public String setCookieHeader(HttpServletRequest request, String path, Minted session, Instant now) {
        Duration left = Duration.between(now.truncatedTo(ChronoUnit.SECONDS), session.expiresAt());
        return setCookieHeader(request, path, session.token(), left.isNegative() ? Duration.ZERO : left);
    }

    /** The {@code Set-Cookie} value that removes the cookie for {@code path}. */
    public String clearCookieHeader(HttpServletRequest request, String path) {
        return header(request, path, "", 0);
    }

    /** Most cookie values of this name examined per request; a browser sends one (two at most). */
    public static final int MAX_VALUES = 4;

    /** Every value the browser sent under the cookie's name (normally one), at most {@value #MAX_VALUES}. */
    public List<String> values(HttpServletRequest request) {
        Cookie[] cookies = request.getCookies();
        if (cookies == null) {
            return List.of();
        }
        List<String> values = new ArrayList<>(1);
        for (Cookie cookie : cookies) {
            if (name.equals(cookie.getName()) && cookie.getValue() != null && !cookie.getValue().isEmpty()) {
                values.add(cookie.getValue());
                if (values.size() == MAX_VALUES) {
                    break;
                }
            }
        }
        return values;
    }

    private String header(HttpServletRequest request, String path, String value, long maxAgeSeconds) {
        StringBuilder sb = new StringBuilder(value.length() + 128)
                .append(name).append('=').append(value)
                .append("; Path=").append(path)
                .append("; Max-Age=").append(maxAgeSeconds)
                .append("; HttpOnly");
        boolean isSecure = switch (secure) {
            case ALWAYS -> true;
            case NEVER -> false;
            case AUTO -> trustedProxies.browserUsedHttps(request);
        };
        // Browsers drop SameSite=None cookies that are not Secure.
        if (isSecure || "None".equals(sameSite)) {
            sb.append("; Secure");
        }
        sb.append("; SameSite=").append(sameSite);
        return sb.toString();
    }
}

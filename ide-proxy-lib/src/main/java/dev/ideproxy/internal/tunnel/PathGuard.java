package dev.ideproxy.internal.tunnel;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Decides whether a raw (still percent-encoded) path can be sent upstream, or used as a redirect
 * target, without anyone reading it as a different path: the container, ide-proxy, the upstream, or
 * a browser resolving a {@code Location}.
 *
 * <p>A path is refused when it, or any of its decodings (up to {@value #DECODE_ROUNDS} rounds, which
 * catches double and triple encoding), holds a dot-segment ({@code .} or {@code ..}), an encoded
 * {@code /} or {@code \}, a backslash, a {@code ;} (path parameters), an empty segment ({@code //}),
 * a control character, or percent-encoding that is not valid UTF-8 (overlong forms such as
 * {@code %c0%ae}). Stateless and thread-safe.
 */
public final class PathGuard {
    /** How many rounds of percent-decoding are examined. */
    public static final int DECODE_ROUNDS = 3;
    /** Longest redirect target accepted at the bootstrap, in characters. */
    public static final int MAX_LANDING_PATH = 2048;

    private PathGuard() {
    }

    /** True when {@code rawPath} passes every check of this class. */
    public static boolean isSafeRawPath(String rawPath) {
        return problem(rawPath) == null;
    }

    /**
     * What is wrong with {@code rawPath}, in a few words for logs, or null when nothing is.
     */
    public static String problem(String rawPath) {
        if (rawPath == null) {
            return "no path";
        }
        String s = rawPath;
        for (int round = 0; round <= DECODE_ROUNDS; round++) {
            String problem = problemInOneForm(s);
            if (problem != null) {
                return round == 0 ? problem : problem + " after " + round + " round(s) of decoding";
            }
            String next;
            try {
                next = decodeOnce(s);
            } catch (CharacterCodingException e) {
                return "percent-encoding that is not UTF-8";
            }
            if (next.equals(s)) {
                return null;
            }
            s = next;
        }
        return "too many levels of percent-encoding";
    }

    /**
     * The redirect target of a bootstrap: {@code requested} when it is a safe path inside
     * {@code tunnelBase} (optionally with a query), {@code tunnelBase} when nothing was requested, and
     * null when it would leave the workspace's tunnel (absolute URL, {@code //host}, backslashes,
     * another workspace, dot-segments, their encoded forms, a fragment, or characters a URL may not hold).
     *
     * @param requested  the decoded value of the bootstrap's {@code path} parameter, or null
     * @param tunnelBase {@code <context>/__ide/{id}/}
     */
    public static String landingPath(String requested, String tunnelBase) {
        if (requested == null || requested.isEmpty()) {
            return tunnelBase;
        }
        if (requested.length() > MAX_LANDING_PATH || !requested.startsWith(tunnelBase)) {
            return null;
        }
        int q = requested.indexOf('?');
        String path = q < 0 ? requested : requested.substring(0, q);
        String query = q < 0 ? null : requested.substring(q + 1);
        if (!allowed(path, false) || (query != null && !allowed(query, true)) || problem(path) != null) {
            return null;
        }
        try {
            URI uri = new URI(requested);
            if (uri.getScheme() != null || uri.getRawAuthority() != null || uri.getRawFragment() != null
                    || !uri.getRawPath().startsWith(tunnelBase)) {
                return null;
            }
        } catch (URISyntaxException e) {
            return null;
        }
        return requested;
    }

    private static String problemInOneForm(String s) {
        String lower = s.toLowerCase(Locale.ROOT);
        if (s.indexOf('\\') >= 0) {
            return "a backslash";
        }
        if (s.indexOf(';') >= 0) {
            return "a path parameter (;)";
        }
        if (lower.contains("%2f") || lower.contains("%5c")) {
            return "an encoded separator";
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return "a control character";
            }
        }
        String[] segments = s.split("/", -1);
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            if (segment.equals(".") || segment.equals("..")) {
                return "a dot-segment";
            }
            // "//": an upstream may read "//host/x" as a network path (open redirects); the last segment may be empty.
            if (segment.isEmpty() && i > 0 && i < segments.length - 1) {
                return "an empty segment (//)";
            }
        }
        return null;
    }

    /** RFC 3986 characters of a path (or, with {@code query}, of a query), with well-formed %XX escapes. */
    private static boolean allowed(String s, boolean query) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-._~!$&'()*+,=:@/".indexOf(c) >= 0 || (query && (c == '?' || c == ';'));
            if (c == '%') {
                ok = i + 2 < s.length() && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0;
            }
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Decodes every well-formed %XX escape (as UTF-8); leaves a stray '%' as it is. */
    static String decodeOnce(String s) throws CharacterCodingException {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); ) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length() && hex(s.charAt(i + 1)) >= 0 && hex(s.charAt(i + 2)) >= 0) {
                bytes.write(hex(s.charAt(i + 1)) * 16 + hex(s.charAt(i + 2)));
                i += 3;
            } else {
                int codePoint = s.codePointAt(i);
                byte[] encoded = new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8);
                bytes.write(encoded, 0, encoded.length);
                i += Character.charCount(codePoint);
            }
        }
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes.toByteArray()))
                .toString();
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }
}

package dev.ideproxy.internal.web;

import jakarta.servlet.http.HttpServletRequest;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.regex.Pattern;
import org.eclipse.jetty.util.InetAddressSet;

/**
 * The reverse proxies whose forwarding headers ({@code X-Forwarded-*}, {@code Forwarded}) are believed:
 * a list of IPv4/IPv6 addresses and CIDR ranges, matched by Jetty's {@link InetAddressSet}. Only
 * literal addresses are accepted (checked here before Jetty parses them, since its pattern parser
 * would resolve a host name), so neither parsing nor matching ever asks DNS. Immutable and
 * thread-safe.
 */
public final class TrustedProxies {
    /** Trusts nobody: every client's forwarding headers are dropped. */
    public static final TrustedProxies NONE = new TrustedProxies(null);

    private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f:.]+");
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    /** Null when empty. Not modified after construction. */
    private final InetAddressSet networks;

    private TrustedProxies(InetAddressSet networks) {
        this.networks = networks;
    }

    /**
     * @param entries addresses ({@code 10.0.0.5}, {@code ::1}) and ranges ({@code 10.0.0.0/8}, {@code fd00::/8})
     * @throws IllegalArgumentException naming the first entry that is not one
     */
    public static TrustedProxies of(List<String> entries) {
        InetAddressSet networks = new InetAddressSet();
        for (String raw : entries) {
            String entry = raw.trim();
            int slash = entry.indexOf('/');
            if (address(slash < 0 ? entry : entry.substring(0, slash)) == null) {
                throw new IllegalArgumentException("'" + entry + "' is not an IP address or CIDR range (host names are not accepted)");
            }
            if (slash >= 0 && !entry.substring(slash + 1).matches("\\d{1,3}")) {
                throw new IllegalArgumentException("'" + entry + "' has an invalid prefix length");
            }
            try {
                networks.add(entry);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + entry + "' has an invalid prefix length");
            }
        }
        return networks.isEmpty() ? NONE : new TrustedProxies(networks);
    }

    public boolean isEmpty() {
        return networks == null;
    }

    /** True when {@code remoteAddress} (a literal address, as {@code getRemoteAddr()} gives it) is trusted. */
    public boolean trusts(String remoteAddress) {
        if (networks == null || remoteAddress == null) {
            return false;
        }
        String literal = remoteAddress.startsWith("[") && remoteAddress.endsWith("]")
                ? remoteAddress.substring(1, remoteAddress.length() - 1) : remoteAddress;
        InetAddress address = address(literal);
        return address != null && networks.test(address);
    }

    /**
     * Whether the browser reached the front of the chain over HTTPS: the container's view of the
     * request, or the first {@code X-Forwarded-Proto} of a trusted proxy.
     */
    public boolean browserUsedHttps(HttpServletRequest request) {
        if (request.isSecure()) {
            return true;
        }
        if (!trusts(request.getRemoteAddr())) {
            return false;
        }
        String proto = request.getHeader("X-Forwarded-Proto");
        if (proto == null) {
            return false;
        }
        int comma = proto.indexOf(',');
        return (comma < 0 ? proto : proto.substring(0, comma)).trim().equalsIgnoreCase("https");
    }

    /** A literal IPv4 or IPv6 address (IPv4-mapped IPv6 gives the IPv4 address), else null; never a lookup. */
    private static InetAddress address(String literal) {
        int zone = literal.indexOf('%');
        String plain = zone < 0 ? literal : literal.substring(0, zone);
        if (plain.isEmpty() || !LITERAL.matcher(plain).matches()) {
            return null;
        }
        if (plain.indexOf(':') < 0 && !IPV4.matcher(plain).matches()) {
            return null;
        }
        try {
            // Hex digits, dots and colons only: InetAddress parses it without a lookup.
            return InetAddress.getByName(plain);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}

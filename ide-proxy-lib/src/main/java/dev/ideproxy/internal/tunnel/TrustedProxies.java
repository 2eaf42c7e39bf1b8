package dev.ideproxy.internal.tunnel;

import jakarta.servlet.http.HttpServletRequest;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The reverse proxies whose forwarding headers ({@code X-Forwarded-*}, {@code Forwarded}) are believed:
 * a list of IPv4/IPv6 addresses and CIDR ranges. Only literal addresses are accepted, so neither
 * parsing nor matching ever asks DNS. Immutable and thread-safe.
 */
public final class TrustedProxies {
    /** Trusts nobody: every client's forwarding headers are dropped. */
    public static final TrustedProxies NONE = new TrustedProxies(List.of(), List.of());

    private static final Pattern LITERAL = Pattern.compile("[0-9A-Fa-f:.]+");

    private final List<byte[]> networks;
    private final List<Integer> prefixes;

    private TrustedProxies(List<byte[]> networks, List<Integer> prefixes) {
        this.networks = networks;
        this.prefixes = prefixes;
    }

    /**
     * @param entries addresses ({@code 10.0.0.5}, {@code ::1}) and ranges ({@code 10.0.0.0/8}, {@code fd00::/8})
     * @throws IllegalArgumentException naming the first entry that is not one
     */
    public static TrustedProxies of(List<String> entries) {
        List<byte[]> networks = new ArrayList<>();
        List<Integer> prefixes = new ArrayList<>();
        for (String raw : entries) {
            String entry = raw.trim();
            int slash = entry.indexOf('/');
            String address = slash < 0 ? entry : entry.substring(0, slash);
            byte[] bytes = parse(address);
            if (bytes == null) {
                throw new IllegalArgumentException("'" + entry + "' is not an IP address or CIDR range (host names are not accepted)");
            }
            int prefix = bytes.length * 8;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(entry.substring(slash + 1));
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                if (prefix < 0 || prefix > bytes.length * 8) {
                    throw new IllegalArgumentException("'" + entry + "' has an invalid prefix length");
                }
            }
            networks.add(bytes);
            prefixes.add(prefix);
        }
        return networks.isEmpty() ? NONE : new TrustedProxies(List.copyOf(networks), List.copyOf(prefixes));
    }

    public boolean isEmpty() {
        return networks.isEmpty();
    }

    /** True when {@code remoteAddress} (a literal address, as {@code getRemoteAddr()} gives it) is trusted. */
    public boolean trusts(String remoteAddress) {
        if (networks.isEmpty() || remoteAddress == null) {
            return false;
        }
        String address = remoteAddress.startsWith("[") && remoteAddress.endsWith("]")
                ? remoteAddress.substring(1, remoteAddress.length() - 1) : remoteAddress;
        byte[] bytes = parse(address);
        if (bytes == null) {
            return false;
        }
        for (int i = 0; i < networks.size(); i++) {
            if (matches(networks.get(i), prefixes.get(i), bytes)) {
                return true;
            }
        }
        return false;
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

    private static boolean matches(byte[] network, int prefix, byte[] address) {
        if (network.length != address.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (network[i] != address[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (network[full] & mask) == (address[full] & mask);
    }

    /** The address bytes of a literal IPv4 or IPv6 address (IPv4-mapped IPv6 gives 4 bytes), else null. */
    private static byte[] parse(String literal) {
        int zone = literal.indexOf('%');
        String plain = zone < 0 ? literal : literal.substring(0, zone);
        if (plain.isEmpty() || !LITERAL.matcher(plain).matches()) {
            return null;
        }
        if (plain.indexOf(':') < 0 && !plain.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            return null;
        }
        try {
            // A literal of hex digits, dots and colons only: InetAddress parses it without a lookup.
            return InetAddress.getByName(plain).getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }
}

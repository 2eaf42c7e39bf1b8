package dev.ideproxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A raw-socket HTTP/1.1 client for requests no well-behaved client would send: it writes exactly the
 * given bytes, then reads the first response until the server closes the connection, the declared
 * length is read, or a timeout passes.
 */
public final class RawHttp {
    private RawHttp() {
    }

    /** A parsed response: status (0 when the server closed without answering), headers and body. */
    public record Response(int status, List<String[]> headers, String body, String raw) {
        /** The first value of a header, or null. */
        public String header(String name) {
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    return h[1];
                }
            }
            return null;
        }

        /** Every value of a header. */
        public List<String> headers(String name) {
            List<String> out = new ArrayList<>();
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    out.add(h[1]);
                }
            }
            return out;
        }

        @Override
        public String toString() {
            return raw.length() > 2000 ? raw.substring(0, 2000) + "..." : raw;
        }
    }

    /** Sends {@code request} (ISO-8859-1 text, CRLFs included as written) to {@code host:port}. */
    public static Response send(String host, int port, String request) throws IOException {
        return send(host, port, request.getBytes(StandardCharsets.ISO_8859_1));
    }

    public static Response send(String host, int port, byte[] request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 5000);
            socket.setSoTimeout(10_000);
            try {
                socket.getOutputStream().write(request);
                socket.getOutputStream().flush();
            } catch (IOException e) {
                // The server may answer and close before reading everything (e.g. an oversized header).
            }
            return read(socket.getInputStream());
        }
    }

    private static Response read(InputStream in) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        int headerEnd = -1;
        long needed = -1;
        boolean chunked = false;
        try {
            for (int n; (n = in.read(chunk)) >= 0; ) {
                buffer.write(chunk, 0, n);
                byte[] bytes = buffer.toByteArray();
                if (headerEnd < 0) {
                    headerEnd = indexOf(bytes, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                    if (headerEnd >= 0) {
                        String head = new String(bytes, 0, headerEnd, StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
                        int cl = head.indexOf("\r\ncontent-length:");
                        if (cl >= 0) {
                            int end = head.indexOf("\r\n", cl + 2);
                            needed = Long.parseLong(head.substring(cl + 17, end < 0 ? head.length() : end).trim());
                        }
                        chunked = head.contains("\r\ntransfer-encoding: chunked");
                        if (head.startsWith("http/1.1 1") || head.startsWith("http/1.1 204") || head.startsWith("http/1.1 304")) {
                            needed = 0;
                        }
                    }
                }
                if (headerEnd >= 0) {
                    int bodyLength = bytes.length - headerEnd - 4;
                    if (needed >= 0 && bodyLength >= needed) {
                        break;
                    }
                    if (chunked && endsWith(bytes, "0\r\n\r\n")) {
                        break;
                    }
                }
            }
        } catch (SocketTimeoutException | java.net.SocketException e) {
            // whatever arrived is the answer
        }
        return parse(buffer.toByteArray());
    }

    private static Response parse(byte[] bytes) {
        String raw = new String(bytes, StandardCharsets.ISO_8859_1);
        int headerEnd = raw.indexOf("\r\n\r\n");
        if (!raw.startsWith("HTTP/") || headerEnd < 0) {
            return new Response(0, List.of(), raw, raw);
        }
        String[] lines = raw.substring(0, headerEnd).split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        List<String[]> headers = new ArrayList<>();
        boolean chunked = false;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                String name = lines[i].substring(0, colon).trim();
                String value = lines[i].substring(colon + 1).trim();
                headers.add(new String[] {name, value});
                chunked |= name.equalsIgnoreCase("Transfer-Encoding") && value.equalsIgnoreCase("chunked");
            }
        }
        String body = raw.substring(headerEnd + 4);
        if (chunked) {
            body = dechunk(body);
        }
        byte[] bodyBytes = body.getBytes(StandardCharsets.ISO_8859_1);
        return new Response(status, headers, new String(bodyBytes, StandardCharsets.UTF_8), raw);
    }

    private static String dechunk(String body) {
        StringBuilder out = new StringBuilder();
        int pos = 0;
        while (pos < body.length()) {
            int eol = body.indexOf("\r\n", pos);
            if (eol < 0) {
                break;
            }
            String sizeText = body.substring(pos, eol).split(";")[0].trim();
            int size;
            try {
                size = Integer.parseInt(sizeText, 16);
            } catch (NumberFormatException e) {
                break;
            }
            if (size == 0) {
                break;
            }
            int start = eol + 2;
            out.append(body, start, Math.min(body.length(), start + size));
            pos = start + size + 2;
        }
        return out.toString();
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static boolean endsWith(byte[] data, String suffix) {
        byte[] s = suffix.getBytes(StandardCharsets.ISO_8859_1);
        if (data.length < s.length) {
            return false;
        }
        for (int i = 0; i < s.length; i++) {
            if (data[data.length - s.length + i] != s[i]) {
                return false;
            }
        }
        return true;
    }
}

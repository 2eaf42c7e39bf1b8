package dev.ideproxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * An upstream that answers each request with exactly the bytes a script gives for its path, so tests
 * can send response headers a well-behaved server would not (a {@code Connection} naming other
 * headers, {@code Clear-Site-Data}, ...). One connection per request; records what it received.
 */
public final class ScriptedUpstream implements AutoCloseable {
    /** What the upstream received: the request line and the headers by lower-case name. */
    public record Request(String line, Map<String, List<String>> headers) {
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null ? null : String.join(", ", values);
        }
    }

    private final ServerSocket server;
    private final Function<String, String> script;
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    /** @param script maps a request path to a whole raw HTTP/1.1 response (status line to body) */
    public ScriptedUpstream(Function<String, String> script) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.script = script;
        this.acceptor = new Thread(this::serve, "scripted-upstream");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public URI uri() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    public List<Request> requests() {
        return List.copyOf(requests);
    }

    private void serve() {
        while (!server.isClosed()) {
            try (Socket socket = server.accept()) {
                socket.setSoTimeout(5000);
                String head = readHead(socket.getInputStream());
                if (head == null) {
                    continue;
                }
                String[] lines = head.split("\r\n");
                Map<String, List<String>> headers = new LinkedHashMap<>();
                for (int i = 1; i < lines.length; i++) {
                    int colon = lines[i].indexOf(':');
                    if (colon > 0) {
                        headers.computeIfAbsent(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                                k -> new ArrayList<>()).add(lines[i].substring(colon + 1).trim());
                    }
                }
                requests.add(new Request(lines[0], headers));
                String path = lines[0].split(" ")[1];
                int q = path.indexOf('?');
                socket.getOutputStream().write(script.apply(q < 0 ? path : path.substring(0, q))
                        .getBytes(StandardCharsets.ISO_8859_1));
                socket.getOutputStream().flush();
            } catch (IOException e) {
                // closed, or a client that went away
            }
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int matched = 0;
        for (int b; (b = in.read()) >= 0; ) {
            out.write(b);
            matched = (b == '\r' && (matched == 0 || matched == 2)) || (b == '\n' && (matched == 1 || matched == 3))
                    ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return out.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}

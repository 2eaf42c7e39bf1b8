package dev.ideproxy.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.http.HttpCookieStore;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/**
 * A browser that speaks HTTP/2 to the container, on Jetty's client: by prior knowledge over cleartext
 * ({@code http://}), by ALPN over TLS ({@code https://}, trusting {@link TestCertificate} only). Its
 * WebSockets are opened over HTTP/2 (RFC 8441) by {@link #socketsOverHttp2()}, or over HTTP/1.1 by
 * {@link #socketsOverHttp11()}, as browsers do where the server offers no WebSockets over HTTP/2. Like
 * {@link Browser}, it keeps no cookies (each request sends the ones the case means) and shows every
 * answer as it came (no authentication handler); every host name resolves to the loopback address, as
 * a wildcard DNS entry would make {@code *.ide.test} do.
 */
public final class Http2Browser implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Closer closer = new Closer();
    private final HttpClient http2;
    private final WebSocketClient socketsOverHttp2;
    private final WebSocketClient socketsOverHttp11;

    public Http2Browser() throws Exception {
        try {
            http2 = new HttpClient(new HttpClientTransportOverHTTP2(new HTTP2Client(connector())));
            http2.setFollowRedirects(false);
            http2.setHttpCookieStore(new HttpCookieStore.Empty());
            http2.setSocketAddressResolver((host, port, context, promise) ->
                    promise.succeeded(List.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))));
            http2.start();
            closer.add(http2::stop);
            socketsOverHttp2 = new WebSocketClient(http2);
            socketsOverHttp2.start();
            closer.add(socketsOverHttp2::stop);
            HttpClient http11 = new HttpClient(new HttpClientTransportOverHTTP(connector()));
            http11.setHttpCookieStore(new HttpCookieStore.Empty());
            socketsOverHttp11 = new WebSocketClient(http11); // starts and stops its HTTP client with it
            socketsOverHttp11.start();
            closer.add(socketsOverHttp11::stop);
        } catch (Exception e) {
            throw closer.closeAfter(e);
        }
    }

    private static ClientConnector connector() {
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(TestCertificate.client());
        return connector;
    }

    /** The HTTP/2 client. */
    public HttpClient http() {
        return http2;
    }

    /** A new request to {@code uri}. */
    public Request request(URI uri) {
        return http2.newRequest(uri);
    }

    /** Sends {@code request} and waits for its whole answer (20 s at most). */
    public static ContentResponse send(Request request) throws Exception {
        return request.timeout(20, TimeUnit.SECONDS).send();
    }

    /** Mints a token for alice with the portal's bearer JWT: asserts a 200 over HTTP/2. */
    public ContentResponse mint(Container.Running server, String workspace) throws Exception {
        return mint(server.base(), workspace);
    }

    /** {@link #mint(Container.Running, String)} on the server whose context is at {@code base}. */
    public ContentResponse mint(URI base, String workspace) throws Exception {
        ContentResponse minted = send(http2.newRequest(URI.create(base + "/api/dev/" + workspace + "/ide-token"))
                .method(HttpMethod.POST)
                .headers(h -> h.put("Authorization", "Bearer " + Portal.bearer("alice", workspace))));
        assertEquals(HttpVersion.HTTP_2, minted.getVersion());
        assertEquals(200, minted.getStatus(), minted.getContentAsString());
        return minted;
    }

    /** The {@code bootstrapUrl} of a mint's answer, as answered. */
    public static String bootstrapUrl(ContentResponse minted) throws Exception {
        return JSON.readTree(minted.getContentAsString()).get("bootstrapUrl").asText();
    }

    /** Mints, then opens the bootstrap link on {@code server}: asserts the 303; its {@code Set-Cookie}. */
    public String bootstrap(Container.Running server, String workspace) throws Exception {
        return bootstrap(server.base(), workspace);
    }

    /** {@link #bootstrap(Container.Running, String)} on the server whose context is at {@code base}. */
    public String bootstrap(URI base, String workspace) throws Exception {
        String link = bootstrapUrl(mint(base, workspace));
        ContentResponse bootstrap = send(http2.newRequest(URI.create(base.getScheme() + "://" + hostHeader(base) + link)));
        assertEquals(303, bootstrap.getStatus(), bootstrap.getContentAsString());
        String setCookie = bootstrap.getHeaders().get("Set-Cookie");
        assertTrue(setCookie != null && setCookie.startsWith("ide_proxy_session="), String.valueOf(setCookie));
        return setCookie;
    }

    /** Mint and bootstrap: the session cookie's {@code name=value}. */
    public String session(Container.Running server, String workspace) throws Exception {
        return cookie(bootstrap(server, workspace));
    }

    /** {@link #session(Container.Running, String)} on the server whose context is at {@code base}. */
    public String session(URI base, String workspace) throws Exception {
        return cookie(bootstrap(base, workspace));
    }

    /** The {@code name=value} of a {@code Set-Cookie}. */
    public static String cookie(String setCookie) {
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    /** Opens WebSockets as streams of the HTTP/2 connection (RFC 8441). */
    public WebSocketClient socketsOverHttp2() {
        return socketsOverHttp2;
    }

    /** Opens WebSockets over connections of their own (HTTP/1.1). */
    public WebSocketClient socketsOverHttp11() {
        return socketsOverHttp11;
    }

    /**
     * Opens a WebSocket to {@code path} (under the context) on {@code server} with {@code client}, sending
     * {@code cookie} and the page's own origin, as a browser does.
     */
    public static BrowserSocket open(WebSocketClient client, Container.Running server, String path, String cookie)
            throws Exception {
        return open(client, server.base(), path, cookie);
    }

    /** {@link #open(WebSocketClient, Container.Running, String, String)} on the server whose context is at {@code base}. */
    public static BrowserSocket open(WebSocketClient client, URI base, String path, String cookie) throws Exception {
        BrowserSocket socket = new BrowserSocket();
        ClientUpgradeRequest upgrade = new ClientUpgradeRequest();
        upgrade.setHeader("Cookie", cookie);
        upgrade.setHeader("Origin", base.getScheme() + "://" + hostHeader(base));
        String scheme = "https".equals(base.getScheme()) ? "wss" : "ws";
        client.connect(socket, URI.create(scheme + "://" + hostHeader(base) + base.getPath() + path), upgrade)
                .get(10, TimeUnit.SECONDS);
        return socket;
    }

    private static String hostHeader(URI base) {
        return base.getHost() + ":" + base.getPort();
    }

    @Override
    public void close() throws Exception {
        closer.close();
    }
}

package dev.ideproxy.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * A real HTTP client playing the portal's front end and the browser tab: mints a token with a
 * bearer JWT, opens the bootstrap URL, and keeps the session cookie it was given.
 */
public final class Browser {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    private final Container.Running server;

    public Browser(Container.Running server) {
        this.server = server;
    }

    /** The server this browser talks to. */
    public Container.Running server() {
        return server;
    }

    public HttpClient http() {
        return http;
    }

    /** POST /api/dev/{id}/ide-token with the given Authorization header (or none). */
    public HttpResponse<String> mint(String workspaceId, String authorization) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri("/api/dev/" + workspaceId + "/ide-token"))
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Mints for {@code user} and returns the bootstrap URL path (with its token). */
    public String bootstrapUrl(String workspaceId, String user) throws IOException, InterruptedException {
        HttpResponse<String> minted = mint(workspaceId, "Bearer " + Portal.bearer(user, workspaceId));
        assertEquals(200, minted.statusCode(), minted.body());
        JsonNode body = JSON.readTree(minted.body());
        String url = body.get("bootstrapUrl").asText();
        assertNotNull(url);
        return url;
    }

    /** GET a path on the proxy's host (the path already holds the context path). */
    public HttpResponse<String> getPath(String pathAndQuery, String cookie) throws IOException, InterruptedException {
        URI uri = URI.create("http://" + server.hostHeader() + pathAndQuery);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(20)).GET();
        if (cookie != null) {
            b.header("Cookie", cookie);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Mint then bootstrap; returns the whole bootstrap response (303 with Set-Cookie). */
    public HttpResponse<String> bootstrap(String workspaceId, String user) throws IOException, InterruptedException {
        return getPath(bootstrapUrl(workspaceId, user), null);
    }

    /** Mint, bootstrap, and return the {@code name=value} of the session cookie. */
    public String session(String workspaceId, String user) throws IOException, InterruptedException {
        HttpResponse<String> response = bootstrap(workspaceId, user);
        assertEquals(303, response.statusCode(), response.body());
        String setCookie = response.headers().firstValue("Set-Cookie").orElseThrow();
        return setCookie.substring(0, setCookie.indexOf(';'));
    }
}

package dev.ideproxy.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Containers;
import dev.ideproxy.testing.DocSnippets;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.RateLimitsOff;
import dev.ideproxy.testing.Upstream;
import java.net.URI;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * docs/portal.md's signing examples, taken verbatim from the page, run against a real proxy at
 * {@code /ide} on both containers: the Java one (compiled here) signs the bearer JWT this test mints
 * with; the shell one (bash, openssl, curl) mints, bootstraps and reaches the tunnel by itself.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PortalDocsTest {
    private static final String CONTEXT = "/ide";
    private static final Pattern BOOTSTRAP_URL = Pattern.compile("\"bootstrapUrl\":\"([^\"]+)\"");
    private static Upstream upstream;
    private static Containers servers;

    @TempDir
    Path work;

    @BeforeAll
    static void start() throws Exception {
        upstream = new Upstream("ide");
        servers = Containers.start(CONTEXT, kind -> IdeProxy.builder(RateLimitsOff.on(IdeProxyConfig.builder())
                .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                .set(ConfigOption.TARGETS, "42=" + upstream.uri() + ",43=" + upstream.uri())
                .build()).build());
    }

    @AfterAll
    static void stop() throws Exception {
        servers.close();
        upstream.close();
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theJavaExampleSignsATokenTheMintAccepts(Container kind) throws Exception {
        Container.Running proxy = servers.get(kind);
        try (URLClassLoader snippet = DocSnippets.compile(work.resolve("classes"),
                List.of(DocSnippets.snippet("portal.md", "portal-sign-java")))) {
            java.lang.reflect.Method bearer = snippet.loadClass("IdeTokens")
                    .getMethod("bearer", String.class, String.class, String[].class);
            String token = (String) bearer.invoke(null, Portal.BEARER_SECRET, "alice", new String[] {"42"});

            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> minted = mint(http, proxy, "42", token);
            assertEquals(200, minted.statusCode(), minted.body());
            Matcher m = BOOTSTRAP_URL.matcher(minted.body());
            assertTrue(m.find(), minted.body());
            String bootstrap = m.group(1);
            assertTrue(bootstrap.startsWith(CONTEXT + "/api/dev/42/ide?token="), "relative to the origin: " + bootstrap);

            URI origin = URI.create("http://" + proxy.hostHeader());
            HttpResponse<String> boot = http.send(HttpRequest.newBuilder(origin.resolve(bootstrap)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(303, boot.statusCode(), boot.body());
            String cookie = boot.headers().firstValue("Set-Cookie").orElseThrow();
            HttpResponse<String> page = http.send(HttpRequest.newBuilder(proxy.uri("/__ide/42/files"))
                    .header("Cookie", cookie.substring(0, cookie.indexOf(';'))).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode(), page.body());
            assertTrue(page.body().startsWith("ide GET /files"), page.body());

            HttpResponse<String> other = mint(http, proxy, "43", token);
            assertEquals(403, other.statusCode(), other.body());
            assertTrue(other.body().contains("this token does not grant workspace 43"), other.body());
        }
    }

    @ParameterizedTest
    @EnumSource(Container.class)
    void theShellExampleMintsBootstrapsAndReachesTheTunnel(Container kind) throws Exception {
        Container.Running proxy = servers.get(kind);
        Path script = Files.writeString(work.resolve("open-ide.sh"), DocSnippets.snippet("portal.md", "portal-sign-shell"));

        Run run = bash(script, proxy, Portal.BEARER_SECRET, "42");
        assertEquals(0, run.status, run.output);
        String origin = "http://" + proxy.hostHeader();
        assertTrue(run.output.contains("bootstrap: " + origin + CONTEXT + "/api/dev/42/ide?token=…\n"), run.output);
        assertTrue(run.output.contains("tunnel: " + origin + CONTEXT + "/__ide/42/\n"), run.output);
        assertTrue(run.output.endsWith("ide GET /"), "the tunnel answered the IDE's first page:\n" + run.output);
        assertTrue(Files.readString(work.resolve("cookies.txt")).contains(CONTEXT + "/__ide/42/"), "the cookie jar");

        Run wrongSecret = bash(script, proxy, Portal.BEARER_SECRET + "x", "42");
        assertNotEquals(0, wrongSecret.status, wrongSecret.output);
        assertTrue(wrongSecret.output.contains("the bearer token is invalid"), wrongSecret.output);
    }

    private static HttpResponse<String> mint(HttpClient http, Container.Running proxy, String workspace, String bearer)
            throws Exception {
        return http.send(HttpRequest.newBuilder(proxy.uri("/api/dev/" + workspace + "/ide-token"))
                .header("Authorization", "Bearer " + bearer).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private record Run(int status, String output) {
    }

    private Run bash(Path script, Container.Running proxy, String secret, String workspace) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("bash", script.toString()).directory(work.toFile()).redirectErrorStream(true);
        builder.environment().putAll(Map.of("ORIGIN", "http://" + proxy.hostHeader(), "CONTEXT", CONTEXT,
                "SECRET", secret, "SUB", "alice", "WORKSPACE", workspace));
        Process process = builder.start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the script did not end:\n" + output);
        return new Run(process.exitValue(), output);
    }
}

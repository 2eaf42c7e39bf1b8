package dev.ideproxy.war;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The example host application (examples/host-app), which adds ide-proxy as a Maven dependency and
 * installs it through the public API with its own login and workspace registry, deployed into the
 * real containers: its users reach their own workspaces and only those.
 */
class HostAppIT {
    static final Path EXAMPLE = Path.of(System.getProperty("example.war", "target/example/ide-proxy-example-host-app.war"));

    @TempDir
    Path work;

    @ParameterizedTest
    @EnumSource(value = Distribution.class, names = {"TOMCAT_11", "JETTY_12"})
    void hostApplicationUsesItsOwnLoginAndRegistry(Distribution distribution) throws Exception {
        try (TestUpstream alices = new TestUpstream();
             Distribution.Running portal = distribution.start(EXAMPLE, "/portal", Map.of(
                     "ide-proxy.token.secret", "host-app-test-secret-0123456789abcdef",
                     "example.workspaces", "alice:w1=" + alices.uri() + ",bob:w2=http://127.0.0.1:9"), work)) {
            HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                    .connectTimeout(Duration.ofSeconds(5)).build();

            HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(portal.uri("/api/dev/w1/ide-token"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymous.statusCode(), anonymous.body());
            assertTrue(anonymous.body().contains("sign in to the portal first"), anonymous.body());

            HttpResponse<String> login = http.send(HttpRequest.newBuilder(portal.uri("/login"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("user=alice")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, login.statusCode(), login.body());
            String session = login.headers().allValues("Set-Cookie").stream().filter(c -> c.startsWith("JSESSIONID="))
                    .map(c -> c.substring(0, c.indexOf(';'))).findFirst().orElseThrow();

            HttpResponse<String> notHers = http.send(HttpRequest.newBuilder(portal.uri("/api/dev/w2/ide-token"))
                    .header("Cookie", session).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(403, notHers.statusCode(), notHers.body());

            HttpResponse<String> minted = http.send(HttpRequest.newBuilder(portal.uri("/api/dev/w1/ide-token"))
                    .header("Cookie", session).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, minted.statusCode(), minted.body());
            Matcher m = Pattern.compile("\"bootstrapUrl\":\"/portal(/api/dev/w1/ide\\?token=[^\"]+)\"").matcher(minted.body());
            assertTrue(m.find(), minted.body());

            HttpResponse<String> boot = http.send(HttpRequest.newBuilder(portal.uri(m.group(1))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(303, boot.statusCode());
            String setCookie = boot.headers().firstValue("Set-Cookie").orElseThrow();
            String ideCookie = setCookie.substring(0, setCookie.indexOf(';'));

            HttpResponse<String> page = http.send(HttpRequest.newBuilder(portal.uri("/__ide/w1/files"))
                    .header("Cookie", session + "; " + ideCookie).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode(), page.body());
            assertEquals("workspace says hi to " + portal.hostHeader() + " at /files", page.body());
        }
    }
}

package dev.ideproxy.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.target.Target;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.DocSnippets;
import dev.ideproxy.testing.Portal;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.net.URI;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * docs/library.md's three classes, taken verbatim from the page: they compile together against the
 * library (no warnings), and the listener installs ide-proxy on a real container, where the policy
 * and the resolver decide the mint. A test filter stands in for the portal's login
 * ({@code getRemoteUser} from a header).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LibraryDocsTest {
    private static final String LOGIN_HEADER = "X-Test-User";

    @TempDir
    Path work;

    @ParameterizedTest
    @EnumSource(Container.class)
    void theSnippetsCompileAndTheListenerInstallsIdeProxy(Container kind) throws Exception {
        List<String> sources = List.of(DocSnippets.snippet("library.md", "library-resolver"),
                DocSnippets.snippet("library.md", "library-access"), DocSnippets.snippet("library.md", "library-install"));
        try (URLClassLoader snippets = DocSnippets.compile(work.resolve("classes"), sources)) {
            Object resolver = snippets.loadClass("com.example.portal.WorkspaceTargets").getConstructor(Map.class)
                    .newInstance(Map.of("42", "http://10.0.0.5:8080"));
            java.lang.reflect.Method resolve = resolver.getClass().getMethod("resolve", String.class);
            assertEquals(Optional.of(Target.of("42", "http://10.0.0.5:8080")), resolve.invoke(resolver, "42"));
            assertEquals(Optional.empty(), resolve.invoke(resolver, "43"));

            ServletContextListener setup = (ServletContextListener) snippets.loadClass("com.example.portal.IdeSetup")
                    .getConstructor().newInstance();
            try (Container.Running server = kind.start("/portal", context -> {
                context.setInitParameter(ConfigOption.TOKEN_SECRET.key(), Portal.PROXY_SECRET);
                FilterRegistration.Dynamic login = context.addFilter("test-login", (request, response, chain) ->
                        chain.doFilter(new HttpServletRequestWrapper((HttpServletRequest) request) {
                            @Override
                            public String getRemoteUser() {
                                return getHeader(LOGIN_HEADER);
                            }
                        }, response));
                login.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, "/api/dev/*");
                setup.contextInitialized(new ServletContextEvent(context));
            })) {
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

                HttpResponse<String> anonymous = mint(http, server, "42", null);
                assertEquals(401, anonymous.statusCode(), anonymous.body());
                assertTrue(anonymous.body().contains("sign in to the portal first"), anonymous.body());

                HttpResponse<String> bob = mint(http, server, "42", "bob");
                assertEquals(403, bob.statusCode(), bob.body());
                assertTrue(bob.body().contains("workspace 42 is not yours"), bob.body());

                HttpResponse<String> alice = mint(http, server, "42", "alice");
                assertEquals(200, alice.statusCode(), alice.body());
                Matcher m = Pattern.compile("\"bootstrapUrl\":\"(/portal/api/dev/42/ide\\?token=[^\"]+)\"").matcher(alice.body());
                assertTrue(m.find(), alice.body());
                HttpResponse<String> boot = http.send(HttpRequest.newBuilder(
                        URI.create("http://" + server.hostHeader()).resolve(m.group(1))).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(303, boot.statusCode(), boot.body());
                assertEquals("/portal/__ide/42/", boot.headers().firstValue("Location").orElseThrow());
            }
        }
    }

    private static HttpResponse<String> mint(HttpClient http, Container.Running server, String workspace, String user)
            throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.uri("/api/dev/" + workspace + "/ide-token"))
                .POST(HttpRequest.BodyPublishers.noBody());
        if (user != null) {
            request.header(LOGIN_HEADER, user);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}

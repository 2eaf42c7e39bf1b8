package dev.ideproxy.example.springboot;

import dev.ideproxy.IdeProxy;
import dev.ideproxy.access.PrincipalAccessPolicy;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.target.Target;
import org.springframework.boot.web.servlet.ServletContextInitializer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.SecurityFilterChain;

/** ide-proxy in a Spring Boot application, and the Spring Security rules it needs. */
@Configuration
public class IdeProxyConfiguration {

    /**
     * Installs ide-proxy on the embedded container's servlet context. Its options ({@code ide-proxy.*},
     * see docs/configuration.md) are read from Spring's {@link Environment}: {@code application.properties},
     * {@code IDE_PROXY_*} environment variables and {@code -D} system properties all work.
     */
    @Bean
    ServletContextInitializer ideProxy(Environment environment, WorkspaceRegistry workspaces) {
        return context -> IdeProxy.builder(IdeProxyConfig.from(option -> environment.getProperty(option.key())))
                .targetResolver(id -> workspaces.upstreamOf(id).map(uri -> Target.of(id, uri)))
                // The portal's signed-in user needs the role ide-<id> (Spring: authority ROLE_ide-<id>).
                .accessPolicy(new PrincipalAccessPolicy("ide-{id}"))
                .build()
                .install(context);
    }

    /**
     * The live tunnel and the bootstrap link carry ide-proxy's own credentials (its cookie, its one-use
     * token): Spring Security must leave them alone. Its default headers would break an IDE
     * ({@code X-Frame-Options: DENY} blocks VS Code's webview frames, its {@code Cache-Control} replaces
     * the IDE's own), CSRF protection would refuse the IDE's POSTs, and a session or saved request per
     * tunnel request is waste.
     */
    @Bean
    @Order(1)
    SecurityFilterChain ideTunnel(HttpSecurity http) throws Exception {
        return http.securityMatcher("/__ide/**", "/api/dev/*/ide")
                .authorizeHttpRequests(requests -> requests.anyRequest().permitAll())
                .csrf(csrf -> csrf.disable())
                .headers(headers -> headers.disable())
                .requestCache(cache -> cache.disable())
                .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .build();
    }

    /**
     * Everything else, the mint endpoint included, needs the portal's login (HTTP Basic here; a form login
     * or OAuth2 works the same). CSRF protection is lifted from the mint and logout endpoints only: a
     * cross-site POST can mint a token but cannot read the answer (no CORS), and a token is single-use.
     */
    @Bean
    @Order(2)
    SecurityFilterChain portal(HttpSecurity http) throws Exception {
        return http.authorizeHttpRequests(requests -> requests.anyRequest().authenticated())
                .httpBasic(Customizer.withDefaults())
                .csrf(csrf -> csrf.ignoringRequestMatchers("/api/dev/*/ide-token", "/api/dev/*/logout"))
                .build();
    }
}

package dev.ideproxy.war;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.ideproxy.BootstrapLink;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.target.TemplateTargetResolver;
import jakarta.servlet.ServletContext;
import java.io.PrintStream;
import java.time.Instant;

/**
 * The standalone launcher's demo mode: prints a ready-to-open bootstrap link and a command that mints
 * more. Active only when {@link StandaloneServer} set {@value #URL_PROPERTY}, never in a container.
 */
final class Demo {
    /** System property holding the demo's public base URL, set by {@link StandaloneServer} in demo mode. */
    static final String URL_PROPERTY = "ide-proxy.standalone.demo-url";
    static final String WORKSPACE = "demo";
    static final String USER = "demo";

    private Demo() {
    }

    /**
     * Demo mode prints a link to the workspace {@value #WORKSPACE}; with targets configured that do not
     * name it (and no template to fall back on) that link could never work, so start-up is refused.
     */
    static void requireTarget(IdeProxyConfig config) {
        if (config.targetTemplate() == null && !config.targets().containsKey(WORKSPACE)) {
            throw new LauncherOptions.Invalid(LauncherOptions.Setting.of(ConfigOption.TARGETS.key()).name(),
                    "demo mode (no " + ConfigOption.TOKEN_SECRET.key() + " or " + ConfigOption.TOKEN_PRIVATE_KEY.key()
                    + ") needs the workspace '" + WORKSPACE + "', e.g. " + WORKSPACE + "=http://127.0.0.1:8080");
        }
    }

    /** Where the demo workspace goes: its static target, else the template's (checked by {@link #requireTarget}). */
    private static String target(IdeProxyConfig config) {
        String target = config.targets().get(WORKSPACE);
        return target != null ? target : config.targetTemplate().replace(TemplateTargetResolver.PLACEHOLDER, WORKSPACE);
    }

    static void announce(IdeProxy proxy, ServletContext context) {
        String base = System.getProperty(URL_PROPERTY);
        if (base == null) {
            return;
        }
        String contextPath = context.getContextPath();
        BootstrapLink bootstrap = proxy.bootstrapLink(contextPath, WORKSPACE, USER);
        String bearer = JWT.create()
                .withSubject(USER)
                .withArrayClaim(proxy.config().value(ConfigOption.AUTH_JWT_WORKSPACES_CLAIM), new String[] {WORKSPACE})
                .withExpiresAt(Instant.now().plus(proxy.config().sessionTtl()))
                .sign(Algorithm.HMAC256(proxy.config().secret(ConfigOption.AUTH_JWT_HS256_SECRET, true)));
        PrintStream out = System.out;
        out.println();
        out.println("ide-proxy demo: workspace '" + WORKSPACE + "' -> " + target(proxy.config()));
        out.println("  Open the IDE (link valid until " + bootstrap.expiresAt() + "):");
        // Host mode (workspace.origin, e.g. http://{id}.localhost:8000): the link is absolute, on the workspace's host.
        out.println("    " + (bootstrap.url().startsWith("/") ? base + bootstrap.url() : bootstrap.url()));
        out.println("  Mint another link, as a portal would:");
        out.println("    curl -s -X POST -H 'Authorization: Bearer " + bearer + "' " + base
                + contextPath + "/api/dev/" + WORKSPACE + "/ide-token");
        out.println("  Demo secrets are random for this run; configure your own for real use (docs/configuration.md).");
        out.println();
        out.flush();
    }
}

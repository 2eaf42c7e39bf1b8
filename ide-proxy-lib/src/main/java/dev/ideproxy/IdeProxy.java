package dev.ideproxy;

import com.auth0.jwt.algorithms.Algorithm;
import dev.ideproxy.access.AccessPolicy;
import dev.ideproxy.access.BearerJwtAccessPolicy;
import dev.ideproxy.access.PrincipalAccessPolicy;
import dev.ideproxy.activity.ActivityListener;
import dev.ideproxy.activity.ActivityStore;
import dev.ideproxy.config.ConfigException;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.internal.activity.ActivityTracker;
import dev.ideproxy.internal.bootstrap.ActivityServlet;
import dev.ideproxy.internal.bootstrap.IdeBootstrapServlet;
import dev.ideproxy.internal.health.HealthServlet;
import dev.ideproxy.internal.health.Readiness;
import dev.ideproxy.internal.diagnose.Diagnostics;
import dev.ideproxy.internal.http.IdeProxyServlet;
import dev.ideproxy.internal.limit.RateLimits;
import dev.ideproxy.internal.session.SessionCookie;
import dev.ideproxy.internal.session.Sessions;
import dev.ideproxy.internal.telemetry.MicrometerTelemetry;
import dev.ideproxy.internal.telemetry.Telemetry;
import dev.ideproxy.internal.telemetry.TimedReplayStore;
import dev.ideproxy.internal.telemetry.TimedRevocationStore;
import dev.ideproxy.internal.token.TokenKeys;
import dev.ideproxy.internal.token.TokenService;
import dev.ideproxy.internal.token.TokenService.Minted;
import dev.ideproxy.internal.tunnel.HeaderPolicy;
import dev.ideproxy.internal.tunnel.IdeTunnelFilter;
import dev.ideproxy.internal.tunnel.TunnelPaths;
import dev.ideproxy.internal.tunnel.WorkspaceOrigins;
import dev.ideproxy.internal.web.ContextShutdown;
import dev.ideproxy.internal.web.JsonBuffers;
import dev.ideproxy.internal.web.DrainState;
import dev.ideproxy.internal.web.TrustedProxies;
import dev.ideproxy.internal.websocket.WebSocketTunnel;
import dev.ideproxy.target.StaticTargetResolver;
import dev.ideproxy.target.TargetResolver;
import dev.ideproxy.target.TemplateTargetResolver;
import dev.ideproxy.token.InMemoryReplayStore;
import dev.ideproxy.token.InMemoryRevocationStore;
import dev.ideproxy.token.ReplayStore;
import dev.ideproxy.token.RevocationStore;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.FilterRegistration;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRegistration;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public entry point: ide-proxy assembled from a configuration, a target resolver and an access
 * policy, ready to {@link #install(ServletContext) install} on a servlet context.
 *
 * <pre>{@code
 * IdeProxy.builder(IdeProxyConfig.from(ConfigSource.standard(ctx)))
 *         .targetResolver(id -> myWorkspaces.upstreamOf(id))
 *         .accessPolicy((request, id) -> myAuth.decide(request, id))
 *         .build()
 *         .install(ctx);
 * }</pre>
 *
 * <p>Immutable and thread-safe once built.
 *
 * <p>{@link #install} builds the parts and hands each only the collaborators it uses: nothing in the
 * library refers back to this class. The parts live in {@code dev.ideproxy.internal.*}, which is not
 * API; the API is this class, its {@link Builder}, the configuration ({@code dev.ideproxy.config}) and
 * the extension points ({@code dev.ideproxy.access}, {@code dev.ideproxy.target},
 * {@code dev.ideproxy.token}, {@code dev.ideproxy.activity}).
 */
public final class IdeProxy {
    private static final Logger LOG = LoggerFactory.getLogger(IdeProxy.class);

    /**
     * The servlet context attribute under which {@link #install} leaves this proxy's {@link #drain} as a
     * {@code java.util.function.Function<Duration, Boolean>} (a JDK type, so that a server embedding the
     * web application can call it across class loaders): the standalone server drains through it on
     * SIGTERM before it closes its connections.
     */
    public static final String DRAIN_ATTRIBUTE = "dev.ideproxy.drain";

    private final IdeProxyConfig config;
    private final AccessPolicy accessPolicy;
    private final TargetResolver targetResolver;
    private final HeaderPolicy headerPolicy;
    private final WorkspaceOrigins workspaceOrigins;
    private final Sessions sessions;
    private final RateLimits limits;
    private final TrustedProxies trustedProxies;
    private final Clock clock;
    private final Telemetry telemetry;
    private final ActivityTracker activity;
    private final DrainState drain = new DrainState();
    private final Readiness readiness;

    private IdeProxy(Builder b) {
        this.config = b.config;
        this.clock = b.clock;
        // Without a registry nothing refers to Micrometer: MicrometerTelemetry is not even loaded.
        this.telemetry = b.meterRegistry == null ? Telemetry.NONE
                : MicrometerTelemetry.of(b.meterRegistry, config.metricsWorkspaceTag());
        ReplayStore replayStore = b.replayStore != null ? b.replayStore
                : new InMemoryReplayStore(config.tokenReplayCapacity(), clock);
        RevocationStore revocations = b.revocationStore != null ? b.revocationStore
                : new InMemoryRevocationStore(clock);
        if (telemetry.isEnabled()) {
            replayStore = new TimedReplayStore(replayStore, telemetry);
            revocations = new TimedRevocationStore(revocations, telemetry);
        }
        TokenService tokens = new TokenService(TokenKeys.from(config), config.tokenTtl(), config.sessionTtl(),
                config.sessionMaxLifetime(), replayStore, revocations, config.serveWhileRevocationsUnknown(), clock);
        this.accessPolicy = b.accessPolicy != null ? b.accessPolicy : accessPolicyFrom(config, clock);
        this.targetResolver = b.targetResolver != null ? b.targetResolver : targetResolverFrom(config);
        this.trustedProxies = trustedProxiesFrom(config);
        this.limits = new RateLimits(config);
        this.sessions = new Sessions(tokens, new SessionCookie(config, trustedProxies), limits, clock, telemetry);
        this.headerPolicy = new HeaderPolicy(config.cookieName(), config.stripPrefix(), trustedProxies);
        this.workspaceOrigins = WorkspaceOrigins.from(config);
        this.activity = new ActivityTracker(clock, config.activityInterval(), config.activityRetention(),
                b.activityListener, b.activityStore);
        this.readiness = new Readiness(replayStore, revocations, drain);
        // A store that pushes revocations (a shared one) closes this node's WebSockets at once.
        revocations.addRevocationListener(sessions::closeRevoked);
    }

    /** Starts building ide-proxy from a configuration. */
    public static Builder builder(IdeProxyConfig config) {
        return new Builder(config);
    }

    /**
     * Registers the bootstrap servlet on {@code /api/dev/*}, the tunnel filter and the HTTP proxy
     * servlet on {@code /__ide/*} (with the diagnostics page at {@code /__ide/{id}/.ide-proxy/diagnose}),
     * the health checks on {@code /api/health/*} and the activity listing on {@code /api/activity}, and
     * starts the activity reports (one daemon thread, stopped with the context). Call it from a
     * {@code ServletContainerInitializer} or from a {@code ServletContextListener} declared in
     * {@code web.xml} (or annotated), as the servlet specification allows programmatic registration
     * only there.
     */
    public void install(ServletContext context) {
        // First registered, so released last: Jackson's per-thread buffers must not keep this application.
        ContextShutdown.register(context, "ide-proxy-json-buffers", JsonBuffers::release);
        FilterRegistration.Dynamic buffers = context.addFilter("ide-proxy-json-buffers", JsonBuffers.filter());
        buffers.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST, DispatcherType.ASYNC, DispatcherType.ERROR),
                false, TunnelPaths.API_MAPPING, HealthServlet.MAPPING, ActivityServlet.MAPPING, TunnelPaths.TUNNEL_MAPPING);
        buffers.setAsyncSupported(true);
        Predicate<String> validWorkspaceId = id -> id != null && config.workspaceIdPattern().matcher(id).matches();
        ServletRegistration.Dynamic bootstrap = context.addServlet("ide-proxy-bootstrap", new IdeBootstrapServlet(
                validWorkspaceId, workspaceOrigins, accessPolicy, targetResolver, sessions, limits, clock, telemetry, activity));
        bootstrap.addMapping(TunnelPaths.API_MAPPING);
        bootstrap.setAsyncSupported(true);

        ServletRegistration.Dynamic health = context.addServlet("ide-proxy-health", new HealthServlet(readiness));
        health.addMapping(HealthServlet.MAPPING);
        health.setAsyncSupported(true);
        ServletRegistration.Dynamic activityList = context.addServlet("ide-proxy-activity",
                new ActivityServlet(accessPolicy, activity));
        activityList.addMapping(ActivityServlet.MAPPING);
        activityList.setAsyncSupported(true);
        activity.start();
        // Registered before the WebSocket side, so stopped after it: the last report counts its closes.
        ContextShutdown.register(context, "ide-proxy-activity-lifecycle", activity::stop);

        WebSocketTunnel webSockets = WebSocketTunnel.create(config, headerPolicy, sessions, clock, telemetry, activity);
        // Closes live WebSockets with 1012 when the drain begins, and stops their client with the context.
        webSockets.bindTo(context, drain, config.shutdownDrainTimeout());
        FilterRegistration.Dynamic filter = context.addFilter("ide-proxy-tunnel", new IdeTunnelFilter(
                validWorkspaceId, workspaceOrigins, sessions, targetResolver, config.stripPrefix(),
                webSockets.upgradeHandler(),
                new Diagnostics(sessions, webSockets.originCheck(), trustedProxies, clock), telemetry, activity));
        filter.addMappingForUrlPatterns(EnumSet.of(DispatcherType.REQUEST), false, TunnelPaths.TUNNEL_MAPPING);
        filter.setAsyncSupported(true);

        ServletRegistration.Dynamic proxy = context.addServlet("ide-proxy-http",
                new IdeProxyServlet(headerPolicy, config.upstreamConnectTimeout(), telemetry, drain,
                        config.shutdownDrainTimeout()));
        proxy.addMapping(TunnelPaths.TUNNEL_MAPPING);
        proxy.setAsyncSupported(true);
        proxy.setLoadOnStartup(1);
        proxy.setInitParameters(IdeProxyServlet.initParameters(config, context));
        context.setAttribute(DRAIN_ATTRIBUTE, (Function<Duration, Boolean>) this::drain);
        JsonBuffers.track(); // this thread built the keys (and checked them with a token)
        LOG.info("ide-proxy installed on {}: mint and bootstrap at {}, live tunnel at {}",
                context.getContextPath().isEmpty() ? "/" : context.getContextPath(),
                TunnelPaths.API_MAPPING, TunnelPaths.TUNNEL_MAPPING);
    }

    /**
     * Ends sessions before their time, for example when a user loses access to a workspace or the
     * workspace is deleted. From now on every matching session that began up to now is refused (the
     * tunnel answers 401; the user must open the IDE again through the portal, whose access policy
     * decides anew), and its live WebSockets on this node are closed at once (the browser with 1008
     * "session revoked", the upstream with 1001). Other nodes sharing the {@link RevocationStore}
     * refuse the sessions at once and close their WebSockets when the store tells them, or within
     * {@code session.revocation-check}. HTTP exchanges already under way (a download, an event stream)
     * run to their end.
     *
     * @param workspaceId the workspace, or null for every workspace
     * @param user        the user, or null for every user (not both null)
     * @return how many live WebSockets this node closed
     * @throws RuntimeException what the {@link RevocationStore} throws when it cannot record the revocation
     */
    public int revokeSessions(String workspaceId, String user) {
        return sessions.revoke(workspaceId, user);
    }

    /**
     * A bootstrap link for {@code user} on {@code workspaceId}, as the mint endpoint answers it after
     * the access policy allowed: for a host application that decides access itself, in the same JVM.
     * The link is single-use and valid for {@code token.ttl}.
     *
     * @param contextPath the context path ide-proxy is installed under ({@code ""} for the root)
     * @return the link: relative to the proxy's origin in path mode, absolute on the workspace's own
     *         origin in host mode ({@code workspace.origin})
     * @throws IllegalArgumentException when {@code workspaceId} is not a valid id, or cannot have an
     *         origin of its own in host mode
     */
    public BootstrapLink bootstrapLink(String contextPath, String workspaceId, String user) {
        Objects.requireNonNull(contextPath, "contextPath");
        Objects.requireNonNull(user, "user");
        if (workspaceId == null || !config.workspaceIdPattern().matcher(workspaceId).matches()
                || !workspaceOrigins.canServe(workspaceId)) {
            throw new IllegalArgumentException("not a valid workspace id");
        }
        Minted minted = sessions.mintBootstrap(workspaceId, user);
        String url = workspaceOrigins.prefix(workspaceId) + TunnelPaths.bootstrapPath(contextPath, workspaceId)
                + "?token=" + URLEncoder.encode(minted.token(), StandardCharsets.US_ASCII);
        return new BootstrapLink(url, minted.expiresAt());
    }

    /** The configuration this proxy was built from. */
    public IdeProxyConfig config() {
        return config;
    }

    /**
     * Drains this node before it stops, as an undeploy, a redeploy or a container stop does by itself:
     * <ol>
     *   <li>{@code /api/health/ready} answers 503 at once, so load balancers send new work elsewhere;</li>
     *   <li>new WebSocket upgrades are refused with 503 and {@code Retry-After}, and live WebSockets are
     *       closed with 1012 (service restart): browsers and IDEs reconnect, to another node where there
     *       is one (the session cookie stays valid on every node sharing the keys);</li>
     *   <li>HTTP exchanges in flight (downloads, uploads, event streams) may finish within
     *       {@code timeout}; those still running then are cut.</li>
     * </ol>
     * New HTTP requests are still served meanwhile. A drain cannot be undone: stop the node after it.
     * Calls while a drain is under way wait with it.
     *
     * @param timeout how long HTTP exchanges in flight may still run ({@code shutdown.drain-timeout} is
     *                what shutdown uses)
     * @return true when every HTTP exchange finished in time, false when some were cut
     */
    public boolean drain(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("a negative timeout");
        }
        return drain.drain(timeout);
    }

    /** Whether this node is draining (the readiness check answers 503). */
    DrainState drainState() {
        return drain;
    }

    static TrustedProxies trustedProxiesFrom(IdeProxyConfig config) {
        try {
            return TrustedProxies.of(config.trustedProxies());
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigOption.FORWARDED_TRUSTED_PROXIES.key() + ": " + e.getMessage());
        }
    }

    static TargetResolver targetResolverFrom(IdeProxyConfig config) {
        TargetResolver resolver = null;
        try {
            if (!config.targets().isEmpty()) {
                resolver = new StaticTargetResolver(config.targets());
            }
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigOption.TARGETS.key() + ": " + e.getMessage());
        }
        if (config.targetTemplate() != null) {
            TargetResolver template;
            try {
                template = new TemplateTargetResolver(config.targetTemplate());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(ConfigOption.TARGET_TEMPLATE.key() + ": " + e.getMessage());
            }
            resolver = resolver == null ? template : resolver.orElse(template);
        }
        if (resolver == null) {
            throw new ConfigException("No workspace targets are configured: set " + ConfigOption.TARGETS.key()
                    + " (id=uri pairs) or " + ConfigOption.TARGET_TEMPLATE.key()
                    + " (e.g. http://dev-{id}.internal:8080), or pass a TargetResolver to the builder.");
        }
        return resolver;
    }

    static AccessPolicy accessPolicyFrom(IdeProxyConfig config, Clock clock) {
        List<AccessPolicy> policies = new ArrayList<>();
        for (String name : config.authPolicies()) {
            switch (name) {
                case "jwt" -> policies.add(new BearerJwtAccessPolicy(bearerAlgorithm(config),
                        config.value(ConfigOption.AUTH_JWT_WORKSPACES_CLAIM), config.value(ConfigOption.AUTH_JWT_ADMIN_CLAIM),
                        config.value(ConfigOption.AUTH_JWT_ISSUER), config.value(ConfigOption.AUTH_JWT_AUDIENCE), clock));
                case "principal" -> policies.add(new PrincipalAccessPolicy(config.principalRole(),
                        config.principalAdminRole()));
                default -> throw new ConfigException(ConfigOption.AUTH_POLICIES.key() + ": unknown policy '" + name
                        + "'; use jwt, principal or both (comma-separated)");
            }
        }
        if (policies.isEmpty()) {
            throw new ConfigException(ConfigOption.AUTH_POLICIES.key() + " names no access policy; use jwt, principal"
                    + " or pass an AccessPolicy to the builder.");
        }
        return AccessPolicy.firstAllowing(policies);
    }

    private static Algorithm bearerAlgorithm(IdeProxyConfig config) {
        if (config.authJwtHs256Secret() != null) {
            return Algorithm.HMAC256(config.authJwtHs256Secret());
        }
        if (config.authJwtRs256PublicKey() != null) {
            return Algorithm.RSA256(config.authJwtRs256PublicKey(), null);
        }
        throw new ConfigException("The jwt access policy needs a key: set " + ConfigOption.AUTH_JWT_HS256_SECRET.key()
                + " (the host application's HS256 secret) or " + ConfigOption.AUTH_JWT_RS256_PUBLIC_KEY.key()
                + " (its RS256 public key in PEM, or file:/path/to/key.pem).");
    }

    /** Collects the parts of an {@link IdeProxy}. Not thread-safe. */
    public static final class Builder {
        private final IdeProxyConfig config;
        private TargetResolver targetResolver;
        private AccessPolicy accessPolicy;
        private ReplayStore replayStore;
        private RevocationStore revocationStore;
        private Clock clock = Clock.systemUTC();
        private MeterRegistry meterRegistry;
        private ActivityListener activityListener;
        private ActivityStore activityStore;

        private Builder(IdeProxyConfig config) {
            this.config = Objects.requireNonNull(config, "config");
        }

        /** Resolves workspaces with {@code resolver} instead of the configured targets. */
        public Builder targetResolver(TargetResolver resolver) {
            this.targetResolver = Objects.requireNonNull(resolver, "resolver");
            return this;
        }

        /** Decides access to the mint endpoint with {@code policy} instead of the configured policies. */
        public Builder accessPolicy(AccessPolicy policy) {
            this.accessPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * Remembers used bootstrap tokens in {@code store} instead of in this process's memory; give
         * every node the same shared store so that a link works once across all of them.
         */
        public Builder replayStore(ReplayStore store) {
            this.replayStore = Objects.requireNonNull(store, "store");
            return this;
        }

        /**
         * Remembers revoked sessions ({@link IdeProxy#revokeSessions}) in {@code store} instead of in this
         * process's memory; give every node the same shared store so that a revocation holds on all of them.
         */
        public Builder revocationStore(RevocationStore store) {
            this.revocationStore = Objects.requireNonNull(store, "store");
            return this;
        }

        /**
         * Records metrics in {@code registry}: tunnel requests, upstream failures, mints and bootstraps,
         * bytes relayed, WebSocket relays, session renewals and revocations, store latency, all named
         * {@code ide_proxy.*} (listed in {@code docs/operations.md}). Without it ide-proxy records
         * nothing and needs no Micrometer on the class path. Give each proxy a registry of its own, or
         * tell them apart with common tags: two proxies in one registry add up.
         *
         * @param registry a Micrometer {@code io.micrometer.core.instrument.MeterRegistry}
         */
        public Builder meterRegistry(MeterRegistry registry) {
            Objects.requireNonNull(registry, "registry");
            this.meterRegistry = registry;
            return this;
        }

        /**
         * Tells {@code listener} of workspace activity, at most once per {@code activity.interval} per
         * workspace, from a background thread (see {@link ActivityListener}).
         */
        public Builder activityListener(ActivityListener listener) {
            this.activityListener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Shares workspace activity with the other nodes through {@code store}, so that the activity
         * endpoints of any node answer for the fleet; without one, each node answers for itself.
         */
        public Builder activityStore(ActivityStore store) {
            this.activityStore = Objects.requireNonNull(store, "store");
            return this;
        }

        /** The time source of token expiry and of workspace activity; for tests. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Builds the proxy. When SLF4J has no provider (so every ide-proxy log line would be dropped),
         * logs one warning saying so through {@code java.util.logging}, logger {@code dev.ideproxy}.
         *
         * @throws ConfigException when a part is missing or misconfigured
         * @throws IllegalStateException when the Jetty libraries on the classpath are older than 12.1
         */
        public IdeProxy build() {
            JettyLibraries.check();
            Slf4jProvider.check();
            return new IdeProxy(this);
        }
    }
}

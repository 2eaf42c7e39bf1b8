package dev.ideproxy.config;

/**
 * Every configuration option of ide-proxy: its name, its default and what it does.
 *
 * <p>Names are given without the common prefix {@value #PREFIX}. With {@link ConfigSource#standard}
 * an option is read, in increasing order of precedence, from the servlet context init parameter
 * {@code ide-proxy.NAME}, the environment variable {@code IDE_PROXY_NAME} (upper case, {@code .}
 * and {@code -} as {@code _}) and the system property {@code ide-proxy.NAME}.
 * {@code docs/configuration.md} documents each one; a test keeps the two in step.
 */
public enum ConfigOption {
    TOKEN_SECRET("token.secret", null, Secret.YES,
            "HS256 secret that signs bootstrap and session tokens; at least 32 bytes. Required unless token.private-key is set."),
    TOKEN_KEY_ID("token.key-id", "k1", "Key id (kid) of the active signing key, written into every token."),
    TOKEN_PRIVATE_KEY("token.private-key", null, Secret.YES,
            "PKCS#8 PEM RSA (RS256) or P-256 EC (ES256) private key, or file:/path, that signs tokens instead of token.secret."),
    TOKEN_PUBLIC_KEY("token.public-key", null, "PEM public key (or file:/path) matching token.private-key."),
    TOKEN_VERIFICATION_KEYS("token.verification-keys", null, Secret.YES,
            "Retiring keys that still verify tokens: comma-separated kid=value, value an HS256 secret, a PEM public key or file:/path."),
    TOKEN_TTL("token.ttl", "60s", "Lifetime of a bootstrap token."),
    TOKEN_REPLAY_CAPACITY("token.replay-capacity", "100000",
            "Most used bootstrap token ids the in-memory replay store remembers; when full, bootstraps answer 503 until ids expire."),
    SESSION_TTL("session.ttl", "8h",
            "Idle lifetime of a session: its cookie is renewed while in use, once less than half of this is left."),
    SESSION_MAX_LIFETIME("session.max-lifetime", "12h",
            "Absolute lifetime of a session, however active; then the IDE must be opened again from the portal."),
    SESSION_REVOCATION_CHECK("session.revocation-check", "10s",
            "How often live WebSockets are checked against the revocation store, for sessions revoked on another node (0 = never; else at least 100ms)."),
    SESSION_REVOCATION_UNAVAILABLE("session.revocation-unavailable", "refuse",
            "When the revocation store cannot answer (a shared store is down): refuse (requests of existing sessions get 503 until it answers) or serve (sessions whose cookie verifies are served unchecked)."),
    COOKIE_NAME("cookie.name", "ide_proxy_session", "Name of the session cookie."),
    COOKIE_SECURE("cookie.secure", "auto",
            "auto: Secure when the bootstrap request is HTTPS; always; never."),
    COOKIE_SAME_SITE("cookie.same-site", "Lax", "SameSite attribute of the session cookie: Lax, Strict or None."),
    AUTH_POLICIES("auth.policies", "jwt",
            "Comma-separated access policies asked in order at token mint: jwt, principal."),
    AUTH_JWT_HS256_SECRET("auth.jwt.hs256-secret", null, Secret.YES,
            "Secret of the host application's HS256 bearer tokens (at least 32 bytes)."),
    AUTH_JWT_RS256_PUBLIC_KEY("auth.jwt.rs256-public-key", null,
            "PEM public key (or file:/path) of the host application's RS256 bearer tokens."),
    AUTH_JWT_WORKSPACES_CLAIM("auth.jwt.workspaces-claim", "workspaces",
            "Claim of the bearer token listing the workspace ids it grants (array or space-separated)."),
    AUTH_JWT_ADMIN_CLAIM("auth.jwt.admin-claim", "ide-proxy-admin",
            "Claim of a bearer token that, when true, grants the administrative endpoints (GET /api/activity)."),
    AUTH_JWT_ISSUER("auth.jwt.issuer", null, "Required issuer (iss) of bearer tokens, when set."),
    AUTH_JWT_AUDIENCE("auth.jwt.audience", null, "Required audience (aud) of bearer tokens, when set."),
    AUTH_PRINCIPAL_ROLE("auth.principal.role", "ide-{id}",
            "Role the container's authenticated user needs for workspace {id}; * allows any authenticated user."),
    AUTH_PRINCIPAL_ADMIN_ROLE("auth.principal.admin-role", "ide-proxy-admin",
            "Role of the container's authenticated user that grants the administrative endpoints (GET /api/activity)."),
    FORWARDED_TRUSTED_PROXIES("forwarded.trusted-proxies", null,
            "Addresses or CIDRs of reverse proxies whose X-Forwarded-*/Forwarded headers are kept and extended; others' are dropped."),
    TARGETS("targets", null,
            "Static targets: comma-separated id=uri pairs, e.g. 42=http://10.0.0.5:8080."),
    TARGET_TEMPLATE("target.template", null,
            "Upstream URI template for ids not in targets, e.g. http://dev-{id}.internal:8080."),
    WORKSPACE_ID_PATTERN("workspace.id-pattern", "[A-Za-z0-9][A-Za-z0-9_-]{0,62}",
            "Regular expression every workspace id must match."),
    WORKSPACE_ORIGIN("workspace.origin", null,
            "Host mode: each workspace on its own origin, e.g. https://{id}.ide.example.net; unset = path mode (every workspace on the proxy's origin)."),
    TUNNEL_STRIP_PREFIX("tunnel.strip-prefix", "true",
            "Strip /__ide/{id} from the path sent upstream (false keeps the full path)."),
    UPSTREAM_CONNECT_TIMEOUT("upstream.connect-timeout", "5s", "Time allowed to connect to an upstream."),
    UPSTREAM_IDLE_TIMEOUT("upstream.idle-timeout", "120s",
            "Longest silence of an upstream HTTP exchange before 504 (or the response is cut)."),
    UPSTREAM_MAX_CONNECTIONS("upstream.max-connections-per-target", "256",
            "Most HTTP connections open to one upstream."),
    PROXY_MAX_THREADS("proxy.max-threads", "64",
            "Threads of the upstream HTTP client, used when the container offers no executor (Tomcat)."),
    WS_MAX_MESSAGE_SIZE("websocket.max-message-size", "64MiB",
            "Largest WebSocket message relayed in either direction; larger ones close the session with 1009."),
    WS_IDLE_TIMEOUT("websocket.idle-timeout", "1h",
            "A WebSocket session with no traffic for this long is closed (0 = never)."),
    WS_PING_INTERVAL("websocket.ping-interval", "30s",
            "Interval of keep-alive pings sent to both sides of an idle WebSocket session (0 = none)."),
    WS_MODE("websocket.mode", "auto",
            "How WebSockets are relayed: passthrough (frame bytes copied unchanged; Tomcat, embedded Jetty, java -jar), message (both sides terminated; any container) or auto (passthrough where it works)."),
    WS_ALLOWED_ORIGINS("websocket.allowed-origins", null,
            "Extra origins (scheme://host[:port], comma-separated) allowed to open WebSockets besides the request's own host."),
    WS_ALLOW_MISSING_ORIGIN("websocket.allow-missing-origin", "true",
            "Accept WebSocket upgrades without an Origin header (non-browser clients)."),
    LIMIT_MINT_PER_USER("limit.mint-per-user", "30/1m",
            "Most bootstrap links one user may mint (per node): count/period, e.g. 30/1m; beyond it 429 with Retry-After; 0 = no limit."),
    LIMIT_MINT_PER_WORKSPACE("limit.mint-per-workspace", "60/1m",
            "Most bootstrap links minted for one workspace (per node), by all its users together; 0 = no limit."),
    LIMIT_BOOTSTRAP_PER_USER("limit.bootstrap-per-user", "30/1m",
            "Most sessions one user may open (per node), checked before the link is used up; 0 = no limit."),
    LIMIT_BOOTSTRAP_PER_WORKSPACE("limit.bootstrap-per-workspace", "60/1m",
            "Most sessions opened on one workspace (per node), by all its users together; 0 = no limit."),
    LIMIT_WEBSOCKETS_PER_SESSION("limit.websockets-per-session", "32",
            "Most WebSockets open at once for one session (one browser's login to one workspace), per node; beyond it the upgrade answers 429; 0 = no limit."),
    LIMIT_WEBSOCKETS_PER_USER("limit.websockets-per-user", "128",
            "Most WebSockets open at once for one user over all their sessions and workspaces, per node; 0 = no limit."),
    ACTIVITY_INTERVAL("activity.interval", "60s",
            "How often workspace activity is reported to the activity listener and the shared store: at most once per workspace per interval (at least 100ms)."),
    ACTIVITY_RETENTION("activity.retention", "7d",
            "How long the activity of a workspace without live WebSockets is remembered after its last use."),
    SHUTDOWN_DRAIN_TIMEOUT("shutdown.drain-timeout", "30s",
            "On a drain (undeploy, redeploy, container stop, SIGTERM to the standalone server, IdeProxy.drain): how long HTTP exchanges in flight may still finish before they are cut (0 = cut at once). WebSockets are closed with 1012 at once."),
    STORE_REDIS_URI("store.redis-uri", null, Secret.YES,
            "WAR and standalone: keep used tokens and revocations in this Redis (redis:// or rediss://[user:password@]host:port/db), shared by every node; unset = in memory, per node. Needs ide-proxy-redis on the class path."),
    STORE_REDIS_TIMEOUT("store.redis-timeout", "500ms",
            "WAR and standalone: longest wait for one Redis command; a bootstrap then answers 503."),
    METRICS_WORKSPACE_TAG("metrics.workspace-tag", "false",
            "Tag the meters of traffic, mints, bootstraps, relays and sessions with the workspace id (a set of meters per workspace: small fleets only)."),
    METRICS_PROMETHEUS_PATH("metrics.prometheus.path", null,
            "WAR and standalone: serve metrics in the Prometheus text format at this path, e.g. /api/metrics; unset = no metrics. Needs metrics.prometheus.bearer-secret or metrics.prometheus.loopback-only."),
    METRICS_PROMETHEUS_BEARER_SECRET("metrics.prometheus.bearer-secret", null, Secret.YES,
            "WAR and standalone: the metrics path answers only requests with Authorization: Bearer and this secret (at least 32 bytes); others get 401."),
    METRICS_PROMETHEUS_LOOPBACK_ONLY("metrics.prometheus.loopback-only", "false",
            "WAR and standalone: the metrics path answers only requests from 127.0.0.1 or ::1 that carry no forwarding header; others get 404.");

    /** Readable name of the {@code secret} flag in the constants above. */
    private static final class Secret {
        static final boolean YES = true;
    }

    /** Prefix shared by every option name in parameters and system properties. */
    public static final String PREFIX = "ide-proxy.";

    private final String name;
    private final String defaultValue;
    private final boolean secret;
    private final String description;

    ConfigOption(String name, String defaultValue, String description) {
        this(name, defaultValue, false, description);
    }

    ConfigOption(String name, String defaultValue, boolean secret, String description) {
        this.name = name;
        this.defaultValue = defaultValue;
        this.secret = secret;
        this.description = description;
    }

    /** The name without prefix, e.g. {@code token.ttl}. */
    public String optionName() {
        return name;
    }

    /** The servlet parameter and system property key, e.g. {@code ide-proxy.token.ttl}. */
    public String key() {
        return PREFIX + name;
    }

    /** The environment variable, e.g. {@code IDE_PROXY_TOKEN_TTL}. */
    public String envName() {
        return key().toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** The default value, or null when the option has none. */
    public String defaultValue() {
        return defaultValue;
    }

    public String description() {
        return description;
    }

    /**
     * True for options whose value is a secret (a key, or a URI that may carry a password): never
     * printed, logged or put into an error message.
     */
    public boolean isSecret() {
        return secret;
    }
}

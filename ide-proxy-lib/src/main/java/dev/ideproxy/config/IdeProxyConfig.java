package dev.ideproxy.config;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.net.URI;
import java.net.URISyntaxException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The whole configuration, parsed and checked once at start-up. Immutable and thread-safe.
 * Options, defaults and descriptions are listed in {@link ConfigOption}.
 */
public final class IdeProxyConfig {

    /** Shortest accepted HS256 secret, in bytes (RFC 7518 section 3.2: at least the hash size). */
    public static final int MIN_SECRET_BYTES = 32;

    /** What a key id ({@code kid}) may be: 1 to 64 letters, digits, '.', '_' or '-'. */
    public static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /**
     * A rate limit: at most {@code count} events per {@code period}, as a token bucket that refills
     * continuously (a burst of {@code count} is allowed after a quiet period). Written {@code count/period},
     * e.g. {@code 30/1m}.
     */
    public record Rate(int count, Duration period) {
        public Rate {
            if (count <= 0 || period == null || period.isZero() || period.isNegative()) {
                throw new IllegalArgumentException("a rate needs a positive count and period");
            }
        }

        @Override
        public String toString() {
            return count + "/" + period;
        }
    }

    /**
     * Host mode's origin of each workspace, from {@code workspace.origin}
     * ({@code https://{id}.ide.example.net}): the workspace id is the first label of the host.
     *
     * @param scheme     {@code http} or {@code https}
     * @param hostSuffix the host after the id, lower case, starting with {@code .}
     * @param port       the port, or -1 for the scheme's default
     */
    public record WorkspaceOrigin(String scheme, String hostSuffix, int port) {
        /** The origin of {@code workspaceId}, e.g. {@code https://42.ide.example.net}. */
        public String of(String workspaceId) {
            return scheme + "://" + workspaceId + hostSuffix + (port < 0 ? "" : ":" + port);
        }
    }

    /**
     * A retiring key from {@code token.verification-keys}: it no longer signs, but tokens it signed
     * still verify. Exactly one of {@code secret} (HS256) and {@code publicKey} (RS256/ES256) is set.
     * Its {@link #toString()} never shows key material.
     */
    public record VerificationKey(String id, byte[] secret, PublicKey publicKey) {
        public VerificationKey {
            Objects.requireNonNull(id, "id");
            if ((secret == null) == (publicKey == null)) {
                throw new IllegalArgumentException("a verification key is a secret or a public key");
            }
        }

        @Override
        public byte[] secret() {
            return secret == null ? null : secret.clone();
        }

        @Override
        public String toString() {
            return "VerificationKey[" + id + ", " + (secret != null ? "HS256" : publicKey.getAlgorithm()) + "]";
        }
    }

    /** When the session cookie carries the Secure attribute. */
    public enum CookieSecure { AUTO, ALWAYS, NEVER }

    private final Map<ConfigOption, String> raw;
    private final byte[] tokenSecret;
    private final PrivateKey tokenPrivateKey;
    private final PublicKey tokenPublicKey;
    private final List<VerificationKey> tokenVerificationKeys;
    private final byte[] authJwtHs256Secret;
    private final RSAPublicKey authJwtRs256PublicKey;
    private final String tokenKeyId;
    private final Duration tokenTtl;
    private final int tokenReplayCapacity;
    private final Duration sessionTtl;
    private final Duration sessionMaxLifetime;
    private final Duration sessionRevocationCheck;
    private final boolean serveWhileRevocationsUnknown;
    private final List<String> trustedProxies;
    private final String cookieName;
    private final CookieSecure cookieSecure;
    private final String cookieSameSite;
    private final List<String> authPolicies;
    private final String principalRole;
    private final Map<String, String> targets;
    private final String targetTemplate;
    private final Pattern workspaceIdPattern;
    private final WorkspaceOrigin workspaceOrigin;
    private final boolean stripPrefix;
    private final Duration upstreamConnectTimeout;
    private final Duration upstreamIdleTimeout;
    private final int upstreamMaxConnections;
    private final int proxyMaxThreads;
    private final long wsMaxMessageSize;
    private final Duration wsIdleTimeout;
    private final Duration wsPingInterval;
    private final List<String> wsAllowedOrigins;
    private final boolean wsAllowMissingOrigin;
    private final WebSocketMode wsMode;
    private final Rate limitMintPerUser;
    private final Rate limitMintPerWorkspace;
    private final Rate limitBootstrapPerUser;
    private final Rate limitBootstrapPerWorkspace;
    private final int limitWebSocketsPerSession;
    private final int limitWebSocketsPerUser;
    private final boolean metricsWorkspaceTag;
    private final String metricsPrometheusPath;
    private final byte[] metricsPrometheusBearerSecret;
    private final boolean metricsPrometheusLoopbackOnly;
    private final String principalAdminRole;
    private final Duration activityInterval;
    private final Duration activityRetention;
    private final Duration shutdownDrainTimeout;

    private IdeProxyConfig(Map<ConfigOption, String> raw) {
        this.raw = raw;
        boolean asymmetric = value(ConfigOption.TOKEN_PRIVATE_KEY) != null;
        if (asymmetric && value(ConfigOption.TOKEN_SECRET) != null) {
            throw new ConfigException("Set only one of " + ConfigOption.TOKEN_SECRET.key() + " (HS256) and "
                    + ConfigOption.TOKEN_PRIVATE_KEY.key() + " (RS256/ES256) as the active signing key; list a"
                    + " retiring key in " + ConfigOption.TOKEN_VERIFICATION_KEYS.key() + ".");
        }
        if (!asymmetric && value(ConfigOption.TOKEN_PUBLIC_KEY) != null) {
            throw new ConfigException(ConfigOption.TOKEN_PUBLIC_KEY.key() + " is set without "
                    + ConfigOption.TOKEN_PRIVATE_KEY.key() + "; a retiring public key belongs in "
                    + ConfigOption.TOKEN_VERIFICATION_KEYS.key() + ".");
        }
        this.tokenSecret = asymmetric ? null : secret(ConfigOption.TOKEN_SECRET, true);
        this.tokenPrivateKey = asymmetric ? signingPrivateKey() : null;
        this.tokenPublicKey = asymmetric ? signingPublicKey() : null;
        this.tokenVerificationKeys = verificationKeys(value(ConfigOption.TOKEN_VERIFICATION_KEYS));
        this.authJwtHs256Secret = secret(ConfigOption.AUTH_JWT_HS256_SECRET, false);
        this.authJwtRs256PublicKey = rsaPublicKey(ConfigOption.AUTH_JWT_RS256_PUBLIC_KEY);
        if (authJwtHs256Secret != null && authJwtRs256PublicKey != null) {
            throw new ConfigException("Set only one of " + ConfigOption.AUTH_JWT_HS256_SECRET.key() + " and "
                    + ConfigOption.AUTH_JWT_RS256_PUBLIC_KEY.key() + ".");
        }
        this.tokenKeyId = value0(ConfigOption.TOKEN_KEY_ID);
        if (!KEY_ID.matcher(tokenKeyId).matches()) {
            throw new ConfigException(ConfigOption.TOKEN_KEY_ID.key() + " must be 1 to 64 letters, digits, '.', '_' or '-'");
        }
        this.tokenTtl = positive(ConfigOption.TOKEN_TTL);
        this.tokenReplayCapacity = Values.positiveInt(ConfigOption.TOKEN_REPLAY_CAPACITY,
                value0(ConfigOption.TOKEN_REPLAY_CAPACITY));
        this.sessionTtl = positive(ConfigOption.SESSION_TTL);
        this.sessionMaxLifetime = positive(ConfigOption.SESSION_MAX_LIFETIME);
        this.sessionRevocationCheck = Values.duration(ConfigOption.SESSION_REVOCATION_CHECK,
                value(ConfigOption.SESSION_REVOCATION_CHECK));
        if (!sessionRevocationCheck.isZero() && sessionRevocationCheck.toMillis() < 100) {
            throw new ConfigException(ConfigOption.SESSION_REVOCATION_CHECK.key() + " must be 0 (never) or at least 100ms");
        }
        String unavailable = value0(ConfigOption.SESSION_REVOCATION_UNAVAILABLE).toLowerCase(Locale.ROOT);
        if (!unavailable.equals("refuse") && !unavailable.equals("serve")) {
            throw new ConfigException(ConfigOption.SESSION_REVOCATION_UNAVAILABLE.key() + " = '" + unavailable
                    + "' must be refuse or serve");
        }
        this.serveWhileRevocationsUnknown = unavailable.equals("serve");
        this.trustedProxies = list(value(ConfigOption.FORWARDED_TRUSTED_PROXIES));
        this.cookieName = cookieName(value(ConfigOption.COOKIE_NAME));
        this.cookieSecure = oneOf(ConfigOption.COOKIE_SECURE, CookieSecure.class);
        this.cookieSameSite = sameSite(value(ConfigOption.COOKIE_SAME_SITE));
        this.authPolicies = list(value(ConfigOption.AUTH_POLICIES));
        this.principalRole = value(ConfigOption.AUTH_PRINCIPAL_ROLE);
        this.targets = targets(value(ConfigOption.TARGETS));
        this.targetTemplate = value(ConfigOption.TARGET_TEMPLATE);
        this.workspaceIdPattern = pattern(value(ConfigOption.WORKSPACE_ID_PATTERN));
        this.workspaceOrigin = workspaceOrigin(value(ConfigOption.WORKSPACE_ORIGIN));
        this.stripPrefix = Values.bool(ConfigOption.TUNNEL_STRIP_PREFIX, value(ConfigOption.TUNNEL_STRIP_PREFIX));
        this.upstreamConnectTimeout = positive(ConfigOption.UPSTREAM_CONNECT_TIMEOUT);
        this.upstreamIdleTimeout = positive(ConfigOption.UPSTREAM_IDLE_TIMEOUT);
        this.upstreamMaxConnections = Values.positiveInt(ConfigOption.UPSTREAM_MAX_CONNECTIONS,
                value(ConfigOption.UPSTREAM_MAX_CONNECTIONS));
        this.proxyMaxThreads = Values.positiveInt(ConfigOption.PROXY_MAX_THREADS, value(ConfigOption.PROXY_MAX_THREADS));
        this.wsMaxMessageSize = Values.size(ConfigOption.WS_MAX_MESSAGE_SIZE, value(ConfigOption.WS_MAX_MESSAGE_SIZE));
        if (wsMaxMessageSize < 1024) {
            throw new ConfigException(ConfigOption.WS_MAX_MESSAGE_SIZE.key() + " must be at least 1KiB");
        }
        this.wsIdleTimeout = Values.duration(ConfigOption.WS_IDLE_TIMEOUT, value(ConfigOption.WS_IDLE_TIMEOUT));
        this.wsPingInterval = Values.duration(ConfigOption.WS_PING_INTERVAL, value(ConfigOption.WS_PING_INTERVAL));
        this.wsAllowedOrigins = list(value(ConfigOption.WS_ALLOWED_ORIGINS)).stream()
                .map(o -> o.toLowerCase(Locale.ROOT)).toList();
        this.wsAllowMissingOrigin = Values.bool(ConfigOption.WS_ALLOW_MISSING_ORIGIN,
                value(ConfigOption.WS_ALLOW_MISSING_ORIGIN));
        this.wsMode = WebSocketMode.parse(ConfigOption.WS_MODE, value(ConfigOption.WS_MODE));
        this.limitMintPerUser = Values.rate(ConfigOption.LIMIT_MINT_PER_USER, value0(ConfigOption.LIMIT_MINT_PER_USER));
        this.limitMintPerWorkspace = Values.rate(ConfigOption.LIMIT_MINT_PER_WORKSPACE,
                value0(ConfigOption.LIMIT_MINT_PER_WORKSPACE));
        this.limitBootstrapPerUser = Values.rate(ConfigOption.LIMIT_BOOTSTRAP_PER_USER,
                value0(ConfigOption.LIMIT_BOOTSTRAP_PER_USER));
        this.limitBootstrapPerWorkspace = Values.rate(ConfigOption.LIMIT_BOOTSTRAP_PER_WORKSPACE,
                value0(ConfigOption.LIMIT_BOOTSTRAP_PER_WORKSPACE));
        this.limitWebSocketsPerSession = Values.count(ConfigOption.LIMIT_WEBSOCKETS_PER_SESSION,
                value0(ConfigOption.LIMIT_WEBSOCKETS_PER_SESSION));
        this.limitWebSocketsPerUser = Values.count(ConfigOption.LIMIT_WEBSOCKETS_PER_USER,
                value0(ConfigOption.LIMIT_WEBSOCKETS_PER_USER));
        this.metricsWorkspaceTag = Values.bool(ConfigOption.METRICS_WORKSPACE_TAG,
                value0(ConfigOption.METRICS_WORKSPACE_TAG));
        this.metricsPrometheusPath = metricsPath(value(ConfigOption.METRICS_PROMETHEUS_PATH));
        this.metricsPrometheusBearerSecret = secret(ConfigOption.METRICS_PROMETHEUS_BEARER_SECRET, false);
        this.metricsPrometheusLoopbackOnly = Values.bool(ConfigOption.METRICS_PROMETHEUS_LOOPBACK_ONLY,
                value0(ConfigOption.METRICS_PROMETHEUS_LOOPBACK_ONLY));
        if (metricsPrometheusPath != null && metricsPrometheusBearerSecret == null && !metricsPrometheusLoopbackOnly) {
            // An open endpoint tells anyone who uses which workspace, and how much.
            throw new ConfigException(ConfigOption.METRICS_PROMETHEUS_PATH.key() + " is set but the metrics would be open"
                    + " to anyone: set " + ConfigOption.METRICS_PROMETHEUS_BEARER_SECRET.key() + " (at least "
                    + MIN_SECRET_BYTES + " bytes, e.g. the output of 'openssl rand -base64 48') or "
                    + ConfigOption.METRICS_PROMETHEUS_LOOPBACK_ONLY.key() + "=true.");
        }
        this.principalAdminRole = value0(ConfigOption.AUTH_PRINCIPAL_ADMIN_ROLE);
        value0(ConfigOption.AUTH_JWT_ADMIN_CLAIM);
        this.activityInterval = positive(ConfigOption.ACTIVITY_INTERVAL);
        if (activityInterval.toMillis() < 100) {
            throw new ConfigException(ConfigOption.ACTIVITY_INTERVAL.key() + " must be at least 100ms");
        }
        this.activityRetention = positive(ConfigOption.ACTIVITY_RETENTION);
        this.shutdownDrainTimeout = Values.duration(ConfigOption.SHUTDOWN_DRAIN_TIMEOUT,
                value(ConfigOption.SHUTDOWN_DRAIN_TIMEOUT));
    }

    /** Reads every option from {@code source}, applies defaults and checks the result. */
    public static IdeProxyConfig from(ConfigSource source) {
        Objects.requireNonNull(source, "source");
        Map<ConfigOption, String> values = new EnumMap<>(ConfigOption.class);
        for (ConfigOption option : ConfigOption.values()) {
            String value = source.get(option);
            if (value == null || value.isBlank()) {
                value = option.defaultValue();
            }
            if (value != null) {
                values.put(option, value.trim());
            }
        }
        return new IdeProxyConfig(values);
    }

    /** Starts a programmatic configuration; unset options take their defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The value of any option after defaults, or null when unset. Never logs or exposes secrets by itself. */
    public String value(ConfigOption option) {
        return raw.get(option);
    }

    /** The HS256 secret of the active key, or null when an asymmetric key signs instead. */
    public byte[] tokenSecret() {
        return tokenSecret == null ? null : tokenSecret.clone();
    }

    /** The private key of the active RS256/ES256 signing key ({@code token.private-key}), or null for HS256. */
    public PrivateKey tokenPrivateKey() {
        return tokenPrivateKey;
    }

    /** The public key matching {@link #tokenPrivateKey()} ({@code token.public-key}), or null for HS256. */
    public PublicKey tokenPublicKey() {
        return tokenPublicKey;
    }

    /** The retiring keys of {@code token.verification-keys}, in the order configured. */
    public List<VerificationKey> tokenVerificationKeys() {
        return tokenVerificationKeys;
    }

    /** The host application's HS256 bearer secret ({@code auth.jwt.hs256-secret}), or null. */
    public byte[] authJwtHs256Secret() {
        return authJwtHs256Secret == null ? null : authJwtHs256Secret.clone();
    }

    /** The host application's RS256 bearer public key ({@code auth.jwt.rs256-public-key}), or null. */
    public RSAPublicKey authJwtRs256PublicKey() {
        return authJwtRs256PublicKey;
    }

    /** Key id ({@code kid}) of the active signing key. */
    public String tokenKeyId() {
        return tokenKeyId;
    }

    public Duration tokenTtl() {
        return tokenTtl;
    }

    /** Capacity of the default in-memory replay store. */
    public int tokenReplayCapacity() {
        return tokenReplayCapacity;
    }

    /** Idle lifetime of a session (its cookie is renewed while in use). */
    public Duration sessionTtl() {
        return sessionTtl;
    }

    /** Absolute lifetime of a session. */
    public Duration sessionMaxLifetime() {
        return sessionMaxLifetime;
    }

    /** Interval of the check of live WebSockets against the revocation store; zero for never. */
    public Duration sessionRevocationCheck() {
        return sessionRevocationCheck;
    }

    /**
     * What sessions do while the revocation store cannot answer ({@code session.revocation-unavailable}):
     * true serves sessions whose cookie verifies, false (the default) refuses them with 503.
     */
    public boolean serveWhileRevocationsUnknown() {
        return serveWhileRevocationsUnknown;
    }

    /** The role that grants the administrative endpoints to the container's user ({@code auth.principal.admin-role}). */
    public String principalAdminRole() {
        return principalAdminRole;
    }

    /** How often workspace activity is reported ({@code activity.interval}); at least 100 ms. */
    public Duration activityInterval() {
        return activityInterval;
    }

    /** How long an unused workspace's activity is remembered ({@code activity.retention}). */
    public Duration activityRetention() {
        return activityRetention;
    }

    /** How long a drain lets HTTP exchanges in flight finish ({@code shutdown.drain-timeout}); zero for not at all. */
    public Duration shutdownDrainTimeout() {
        return shutdownDrainTimeout;
    }

    /** Addresses and CIDRs of trusted reverse proxies, as configured (checked by {@code TrustedProxies}). */
    public List<String> trustedProxies() {
        return trustedProxies;
    }

    public String cookieName() {
        return cookieName;
    }

    public CookieSecure cookieSecure() {
        return cookieSecure;
    }

    public String cookieSameSite() {
        return cookieSameSite;
    }

    public List<String> authPolicies() {
        return authPolicies;
    }

    public String principalRole() {
        return principalRole;
    }

    /** Static targets by workspace id, in the order configured (unvalidated URIs, checked by the resolver). */
    public Map<String, String> targets() {
        return targets;
    }

    public String targetTemplate() {
        return targetTemplate;
    }

    public Pattern workspaceIdPattern() {
        return workspaceIdPattern;
    }

    /** Host mode's origin template ({@code workspace.origin}), or null in path mode. */
    public WorkspaceOrigin workspaceOrigin() {
        return workspaceOrigin;
    }

    public boolean stripPrefix() {
        return stripPrefix;
    }

    public Duration upstreamConnectTimeout() {
        return upstreamConnectTimeout;
    }

    public Duration upstreamIdleTimeout() {
        return upstreamIdleTimeout;
    }

    public int upstreamMaxConnections() {
        return upstreamMaxConnections;
    }

    public int proxyMaxThreads() {
        return proxyMaxThreads;
    }

    public long wsMaxMessageSize() {
        return wsMaxMessageSize;
    }

    public Duration wsIdleTimeout() {
        return wsIdleTimeout;
    }

    public Duration wsPingInterval() {
        return wsPingInterval;
    }

    /** Extra allowed WebSocket origins, lower case. */
    public List<String> wsAllowedOrigins() {
        return wsAllowedOrigins;
    }

    public boolean wsAllowMissingOrigin() {
        return wsAllowMissingOrigin;
    }

    /** How WebSockets are relayed ({@code websocket.mode}). */
    public WebSocketMode wsMode() {
        return wsMode;
    }

    /** Most bootstrap links one user may mint per period, or null for no limit. */
    public Rate limitMintPerUser() {
        return limitMintPerUser;
    }

    /** Most bootstrap links minted for one workspace per period, or null for no limit. */
    public Rate limitMintPerWorkspace() {
        return limitMintPerWorkspace;
    }

    /** Most sessions one user may open per period, or null for no limit. */
    public Rate limitBootstrapPerUser() {
        return limitBootstrapPerUser;
    }

    /** Most sessions opened on one workspace per period, or null for no limit. */
    public Rate limitBootstrapPerWorkspace() {
        return limitBootstrapPerWorkspace;
    }

    /** Most WebSockets open at once per session; 0 for no limit. */
    public int limitWebSocketsPerSession() {
        return limitWebSocketsPerSession;
    }

    /** Most WebSockets open at once per user; 0 for no limit. */
    public int limitWebSocketsPerUser() {
        return limitWebSocketsPerUser;
    }

    /** Whether meters carry the workspace id ({@code metrics.workspace-tag}). */
    public boolean metricsWorkspaceTag() {
        return metricsWorkspaceTag;
    }

    /** Where the WAR serves Prometheus metrics ({@code metrics.prometheus.path}), or null for nowhere. */
    public String metricsPrometheusPath() {
        return metricsPrometheusPath;
    }

    /** The bearer secret of the Prometheus endpoint ({@code metrics.prometheus.bearer-secret}), or null. */
    public byte[] metricsPrometheusBearerSecret() {
        return metricsPrometheusBearerSecret == null ? null : metricsPrometheusBearerSecret.clone();
    }

    /** Whether the Prometheus endpoint answers loopback requests only ({@code metrics.prometheus.loopback-only}). */
    public boolean metricsPrometheusLoopbackOnly() {
        return metricsPrometheusLoopbackOnly;
    }

    /**
     * Reads a secret option as UTF-8 bytes and checks its length.
     *
     * @param required whether a missing value is an error
     * @return the bytes, or null when absent and not required
     */
    public byte[] secret(ConfigOption option, boolean required) {
        String value = value(option);
        if (value == null) {
            if (required) {
                throw new ConfigException(option.key() + " is not set. Set it to a random value of at least "
                        + MIN_SECRET_BYTES + " bytes (e.g. the output of 'openssl rand -base64 48') as a context"
                        + " parameter, the environment variable " + option.envName() + " or the system property "
                        + option.key() + (option == ConfigOption.TOKEN_SECRET
                        ? " (or sign with an RS256/ES256 key: " + ConfigOption.TOKEN_PRIVATE_KEY.key() + ")." : "."));
            }
            return null;
        }
        byte[] bytes = value.getBytes(UTF_8);
        if (bytes.length < MIN_SECRET_BYTES) {
            throw new ConfigException(option.key() + " is too weak: it has " + bytes.length + " bytes, at least "
                    + MIN_SECRET_BYTES + " are required (e.g. the output of 'openssl rand -base64 48').");
        }
        return bytes;
    }

    @Override
    public String toString() {
        // Never print secrets.
        StringBuilder sb = new StringBuilder("IdeProxyConfig{");
        raw.forEach((option, v) -> {
            sb.append(option.key()).append('=').append(option.isSecret() ? "<hidden>" : v).append(", ");
        });
        return sb.append('}').toString();
    }

    private PrivateKey signingPrivateKey() {
        if (value(ConfigOption.TOKEN_PUBLIC_KEY) == null) {
            throw new ConfigException(ConfigOption.TOKEN_PRIVATE_KEY.key() + " needs "
                    + ConfigOption.TOKEN_PUBLIC_KEY.key() + ": the matching public key in PEM"
                    + " (-----BEGIN PUBLIC KEY-----) or file:/path (e.g. 'openssl pkey -in key.pem -pubout').");
        }
        try {
            return Pem.privateKey(Pem.text(value(ConfigOption.TOKEN_PRIVATE_KEY)));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigOption.TOKEN_PRIVATE_KEY.key() + ": " + e.getMessage());
        }
    }

    private PublicKey signingPublicKey() {
        try {
            return Pem.publicKey(Pem.text(value(ConfigOption.TOKEN_PUBLIC_KEY)));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(ConfigOption.TOKEN_PUBLIC_KEY.key() + ": " + e.getMessage());
        }
    }

    private static List<VerificationKey> verificationKeys(String value) {
        String option = ConfigOption.TOKEN_VERIFICATION_KEYS.key();
        List<VerificationKey> keys = new ArrayList<>();
        for (String entry : list(value)) {
            int eq = entry.indexOf('=');
            if (eq <= 0 || eq == entry.length() - 1) {
                throw new ConfigException(option + ": an entry is not of the form kid=secret, kid=PEM public key or"
                        + " kid=file:/path");
            }
            String kid = entry.substring(0, eq).trim();
            String key = entry.substring(eq + 1).trim();
            if (!KEY_ID.matcher(kid).matches()) {
                throw new ConfigException(option + ": key id '" + kid + "' must be 1 to 64 letters, digits, '.', '_' or '-'");
            }
            try {
                String text = Pem.text(key);
                if (Pem.isPem(text, Pem.PUBLIC)) {
                    keys.add(new VerificationKey(kid, null, Pem.publicKey(text)));
                } else if (text.contains("-----BEGIN")) {
                    throw new IllegalArgumentException("give the public key (-----BEGIN PUBLIC KEY-----) of a retiring"
                            + " RS256/ES256 key, not its private key");
                } else {
                    keys.add(new VerificationKey(kid, text.trim().getBytes(UTF_8), null));
                }
            } catch (IllegalArgumentException e) {
                throw new ConfigException(option + ": key " + kid + ": " + e.getMessage());
            }
        }
        return List.copyOf(keys);
    }

    private RSAPublicKey rsaPublicKey(ConfigOption option) {
        String value = value(option);
        if (value == null) {
            return null;
        }
        try {
            if (Pem.publicKey(Pem.text(value)) instanceof RSAPublicKey rsa) {
                return rsa;
            }
            throw new IllegalArgumentException("not an RSA key");
        } catch (IllegalArgumentException e) {
            throw new ConfigException(option.key() + " is not a readable RSA public key in PEM (-----BEGIN PUBLIC KEY-----): "
                    + e.getMessage());
        }
    }

    private String value0(ConfigOption option) {
        String value = value(option);
        if (value == null) {
            throw new ConfigException(option.key() + " must be set");
        }
        return value;
    }

    private Duration positive(ConfigOption option) {
        Duration d = Values.duration(option, value0(option));
        if (d.isZero()) {
            throw new ConfigException(option.key() + " must be longer than 0");
        }
        return d;
    }

    private <E extends Enum<E>> E oneOf(ConfigOption option, Class<E> type) {
        String value = value0(option);
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(value)) {
                return e;
            }
        }
        throw new ConfigException(option.key() + " = '" + value + "' must be one of "
                + Arrays.toString(type.getEnumConstants()).toLowerCase(Locale.ROOT));
    }

    private static String cookieName(String name) {
        if (name == null || !name.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new ConfigException(ConfigOption.COOKIE_NAME.key() + " must be 1 to 64 letters, digits, '_', '.' or '-'");
        }
        return name;
    }

    private static String sameSite(String value) {
        for (String allowed : List.of("Lax", "Strict", "None")) {
            if (allowed.equalsIgnoreCase(value)) {
                return allowed;
            }
        }
        throw new ConfigException(ConfigOption.COOKIE_SAME_SITE.key() + " = '" + value + "' must be Lax, Strict or None");
    }

    private static WorkspaceOrigin workspaceOrigin(String template) {
        if (template == null) {
            return null;
        }
        String key = ConfigOption.WORKSPACE_ORIGIN.key();
        String id = "{id}";
        String value = template.trim();
        if (value.endsWith("/")) {
            value = value.substring(0, value.length() - 1);
        }
        int schemeEnd = value.indexOf("://");
        String scheme = schemeEnd < 0 ? "" : value.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new ConfigException(key + " must start with https:// (or http://), e.g. https://{id}.ide.example.net");
        }
        String authority = value.substring(schemeEnd + 3);
        if (!authority.startsWith(id + ".") || authority.indexOf(id, 1) >= 0) {
            throw new ConfigException(key + " must put {id} once, as the first label of the host, e.g. "
                    + "https://{id}.ide.example.net (found '" + template + "')");
        }
        URI sample;
        try {
            sample = new URI(scheme + "://" + authority.replace(id, "x"));
        } catch (URISyntaxException e) {
            throw new ConfigException(key + " is not a valid origin: " + e.getReason());
        }
        if (sample.getHost() == null || sample.getRawUserInfo() != null || !sample.getRawPath().isEmpty()
                || sample.getRawQuery() != null || sample.getRawFragment() != null || sample.getHost().indexOf('.') < 0) {
            throw new ConfigException(key + " must be an origin only (scheme, host with {id}, optional port; no path),"
                    + " e.g. https://{id}.ide.example.net");
        }
        return new WorkspaceOrigin(scheme, sample.getHost().toLowerCase(Locale.ROOT).substring(1), sample.getPort());
    }

    /** A servlet path of its own: absolute, plain characters, outside ide-proxy's endpoints. */
    private static String metricsPath(String path) {
        if (path == null) {
            return null;
        }
        String key = ConfigOption.METRICS_PROMETHEUS_PATH.key();
        if (!path.matches("(/[A-Za-z0-9._~-]+)+") || path.contains("/./") || path.contains("/../")
                || path.endsWith("/.") || path.endsWith("/..")) {
            throw new ConfigException(key + " = '" + path + "' must be a plain absolute path such as /api/metrics");
        }
        if (path.equals("/__ide") || path.startsWith("/__ide/") || path.equals("/api/dev") || path.startsWith("/api/dev/")) {
            throw new ConfigException(key + " = '" + path + "' lies under ide-proxy's own /__ide/ or /api/dev/;"
                    + " choose another path, such as /api/metrics");
        }
        return path;
    }

    private static Pattern pattern(String regex) {
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new ConfigException(ConfigOption.WORKSPACE_ID_PATTERN.key() + " is not a valid regular expression: "
                    + e.getDescription());
        }
    }

    private static List<String> list(String value) {
        if (value == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String part : value.split(",")) {
            if (!part.isBlank()) {
                out.add(part.trim());
            }
        }
        return List.copyOf(out);
    }

    private static Map<String, String> targets(String value) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String entry : list(value)) {
            int eq = entry.indexOf('=');
            if (eq <= 0 || eq == entry.length() - 1) {
                throw new ConfigException(ConfigOption.TARGETS.key() + ": '" + entry + "' is not of the form id=uri");
            }
            String id = entry.substring(0, eq).trim();
            if (out.put(id, entry.substring(eq + 1).trim()) != null) {
                throw new ConfigException(ConfigOption.TARGETS.key() + ": workspace '" + id + "' is listed twice");
            }
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    /** Collects option values for {@link IdeProxyConfig#builder()}. Not thread-safe. */
    public static final class Builder {
        private final Map<ConfigOption, String> values = new EnumMap<>(ConfigOption.class);

        private Builder() {
        }

        /** Sets an option from its textual form, exactly as it would be written in a context parameter. */
        public Builder set(ConfigOption option, String value) {
            Objects.requireNonNull(option, "option");
            if (value == null) {
                values.remove(option);
            } else {
                values.put(option, value);
            }
            return this;
        }

        /** Parses and checks the options set so far; throws {@link ConfigException} on a bad value. */
        public IdeProxyConfig build() {
            return IdeProxyConfig.from(ConfigSource.of(values));
        }
    }
}

package dev.ideproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class IdeProxyConfigTest {
    static final String SECRET = "0123456789abcdef0123456789abcdef";

    static IdeProxyConfig.Builder valid() {
        return IdeProxyConfig.builder().set(ConfigOption.TOKEN_SECRET, SECRET);
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        IdeProxyConfig c = valid().build();
        assertEquals(Duration.ofSeconds(60), c.tokenTtl());
        assertEquals(Duration.ofHours(8), c.sessionTtl());
        assertEquals("ide_proxy_session", c.cookieName());
        assertEquals(IdeProxyConfig.CookieSecure.AUTO, c.cookieSecure());
        assertEquals("Lax", c.cookieSameSite());
        assertTrue(c.stripPrefix());
        assertEquals(64L << 20, c.wsMaxMessageSize());
        assertEquals(Duration.ofHours(1), c.wsIdleTimeout());
        assertEquals(Duration.ofSeconds(30), c.wsPingInterval());
        assertTrue(c.wsAllowMissingOrigin());
        assertEquals(Duration.ofSeconds(120), c.upstreamIdleTimeout());
    }

    @Test
    void securityDefaults() {
        IdeProxyConfig c = valid().build();
        assertEquals("k1", c.tokenKeyId());
        assertEquals(100_000, c.tokenReplayCapacity());
        assertEquals(Duration.ofHours(12), c.sessionMaxLifetime());
        assertTrue(c.trustedProxies().isEmpty(), "no client's forwarding headers are believed by default");
        assertEquals(java.util.List.of("10.0.0.0/8", "::1"),
                valid().set(ConfigOption.FORWARDED_TRUSTED_PROXIES, " 10.0.0.0/8, ::1 ").build().trustedProxies());
        assertMessage(valid().set(ConfigOption.SESSION_MAX_LIFETIME, "0"), "ide-proxy.session.max-lifetime must be longer than 0");
    }

    @Test
    void aTrustedProxyGivenByNameStopsStartUp() {
        ConfigException e = assertThrows(ConfigException.class, () -> dev.ideproxy.IdeProxy.builder(valid()
                .set(ConfigOption.TARGETS, "a=http://127.0.0.1:1")
                .set(ConfigOption.AUTH_JWT_HS256_SECRET, SECRET)
                .set(ConfigOption.FORWARDED_TRUSTED_PROXIES, "10.0.0.0/8, proxy.internal").build()).build());
        assertTrue(e.getMessage().startsWith("ide-proxy.forwarded.trusted-proxies: 'proxy.internal' is not an IP address"),
                e.getMessage());
    }

    @Test
    void aTargetWithABadPortOrHostSaysWhichPartIsWrong() {
        assertTargetMessage(ConfigOption.TARGETS, "w1=http://127.0.0.1:notaport",
                "ide-proxy.targets: workspace 'w1': target 'http://127.0.0.1:notaport': port 'notaport' is not a number");
        assertTargetMessage(ConfigOption.TARGETS, "w1=http://127.0.0.1:99999",
                "ide-proxy.targets: workspace 'w1': target 'http://127.0.0.1:99999': port 99999 is out of range (1-65535)");
        assertTargetMessage(ConfigOption.TARGETS, "w1=http://127.0.0.1:99999999999",
                "ide-proxy.targets: workspace 'w1': target 'http://127.0.0.1:99999999999': port 99999999999 is out of range (1-65535)");
        assertTargetMessage(ConfigOption.TARGETS, "w1=http://127.0.0.1:0",
                "ide-proxy.targets: workspace 'w1': target 'http://127.0.0.1:0': port 0 is out of range (1-65535)");
        assertTargetMessage(ConfigOption.TARGETS, "w1=http://dev_1.internal:8080",
                "ide-proxy.targets: workspace 'w1': target 'http://dev_1.internal:8080': 'dev_1.internal' is not a valid host name");
        assertTargetMessage(ConfigOption.TARGETS, "w1=http://:8080",
                "ide-proxy.targets: workspace 'w1': target 'http://:8080' has no host");
        assertTargetMessage(ConfigOption.TARGET_TEMPLATE, "http://dev-{id}.internal:port",
                "ide-proxy.target.template: target 'http://dev-sample.internal:port': port 'port' is not a number");
    }

    private static void assertTargetMessage(ConfigOption option, String value, String message) {
        ConfigException e = assertThrows(ConfigException.class, () -> dev.ideproxy.IdeProxy.builder(valid()
                .set(option, value).set(ConfigOption.AUTH_JWT_HS256_SECRET, SECRET).build()).build());
        assertEquals(message, e.getMessage());
    }

    @Test
    void metricsAreOffAndAnOpenPrometheusEndpointIsRefused() {
        IdeProxyConfig c = valid().build();
        assertFalse(c.metricsWorkspaceTag());
        assertEquals(null, c.metricsPrometheusPath());
        assertFalse(c.metricsPrometheusLoopbackOnly());
        ConfigException open = assertThrows(ConfigException.class,
                () -> valid().set(ConfigOption.METRICS_PROMETHEUS_PATH, "/api/metrics").build());
        assertTrue(open.getMessage().startsWith("ide-proxy.metrics.prometheus.path is set but the metrics would be open"
                + " to anyone: set ide-proxy.metrics.prometheus.bearer-secret"), open.getMessage());
        assertFalse(open.getMessage().contains("\n"), "one line");

        IdeProxyConfig secret = valid().set(ConfigOption.METRICS_PROMETHEUS_PATH, "/api/metrics")
                .set(ConfigOption.METRICS_PROMETHEUS_BEARER_SECRET, SECRET).build();
        assertEquals("/api/metrics", secret.metricsPrometheusPath());
        assertEquals(SECRET, new String(secret.metricsPrometheusBearerSecret(), java.nio.charset.StandardCharsets.UTF_8));
        assertFalse(secret.toString().contains(SECRET), "a secret is never printed");
        assertTrue(valid().set(ConfigOption.METRICS_PROMETHEUS_PATH, "/metrics")
                .set(ConfigOption.METRICS_PROMETHEUS_LOOPBACK_ONLY, "true").build().metricsPrometheusLoopbackOnly());
        assertMessage(valid().set(ConfigOption.METRICS_PROMETHEUS_BEARER_SECRET, "short"),
                "ide-proxy.metrics.prometheus.bearer-secret is too weak");
        for (String bad : new String[] {"metrics", "/api/../metrics", "/api/*", "/api/metrics/", "/a b"}) {
            assertMessage(valid().set(ConfigOption.METRICS_PROMETHEUS_PATH, bad)
                    .set(ConfigOption.METRICS_PROMETHEUS_LOOPBACK_ONLY, "true"),
                    "ide-proxy.metrics.prometheus.path = '" + bad + "' must be a plain absolute path");
        }
        for (String shadowing : new String[] {"/__ide/metrics", "/api/dev/metrics", "/__ide"}) {
            assertMessage(valid().set(ConfigOption.METRICS_PROMETHEUS_PATH, shadowing)
                    .set(ConfigOption.METRICS_PROMETHEUS_LOOPBACK_ONLY, "true"),
                    "ide-proxy.metrics.prometheus.path = '" + shadowing + "' lies under ide-proxy's own");
        }
    }

    @Test
    void missingSecretStopsWithOneClearMessage() {
        ConfigException e = assertThrows(ConfigException.class, () -> IdeProxyConfig.builder().build());
        assertTrue(e.getMessage().startsWith("ide-proxy.token.secret is not set"), e.getMessage());
        assertTrue(e.getMessage().contains("IDE_PROXY_TOKEN_SECRET"), e.getMessage());
    }

    @Test
    void weakSecretIsRefused() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> IdeProxyConfig.builder().set(ConfigOption.TOKEN_SECRET, "x".repeat(31)).build());
        assertTrue(e.getMessage().contains("too weak: it has 31 bytes"), e.getMessage());
        assertFalse(e.getMessage().contains("x".repeat(31)), "the secret itself must not be echoed");
    }

    @Test
    void durationsAndSizesInOperatorSyntax() {
        IdeProxyConfig c = valid()
                .set(ConfigOption.TOKEN_TTL, "90s")
                .set(ConfigOption.SESSION_TTL, "PT2H")
                .set(ConfigOption.UPSTREAM_CONNECT_TIMEOUT, "750ms")
                .set(ConfigOption.WS_MAX_MESSAGE_SIZE, "16MiB")
                .set(ConfigOption.WS_PING_INTERVAL, "0")
                .build();
        assertEquals(Duration.ofSeconds(90), c.tokenTtl());
        assertEquals(Duration.ofHours(2), c.sessionTtl());
        assertEquals(Duration.ofMillis(750), c.upstreamConnectTimeout());
        assertEquals(16L << 20, c.wsMaxMessageSize());
        assertEquals(Duration.ZERO, c.wsPingInterval());
    }

    @Test
    void badValuesNameTheOption() {
        assertMessage(valid().set(ConfigOption.TOKEN_TTL, "soon"), "ide-proxy.token.ttl = 'soon' is not a duration");
        assertMessage(valid().set(ConfigOption.TOKEN_TTL, "0"), "ide-proxy.token.ttl must be longer than 0");
        assertMessage(valid().set(ConfigOption.COOKIE_SECURE, "maybe"), "ide-proxy.cookie.secure = 'maybe' must be one of");
        assertMessage(valid().set(ConfigOption.COOKIE_SAME_SITE, "lots"), "ide-proxy.cookie.same-site");
        assertMessage(valid().set(ConfigOption.TARGETS, "a=http://x:1,a=http://y:1"), "workspace 'a' is listed twice");
        assertMessage(valid().set(ConfigOption.TARGETS, "nonsense"), "is not of the form id=uri");
        assertMessage(valid().set(ConfigOption.WORKSPACE_ID_PATTERN, "(["), "not a valid regular expression");
        assertMessage(valid().set(ConfigOption.WS_MAX_MESSAGE_SIZE, "big"), "is not a size");
        assertMessage(valid().set(ConfigOption.SESSION_REVOCATION_CHECK, "5ms"), "must be 0 (never) or at least 100ms");
    }

    @Test
    void laterSourcesOverrideEarlierOnes() {
        ConfigSource params = ConfigSource.of(Map.of(ConfigOption.TOKEN_SECRET, SECRET, ConfigOption.TOKEN_TTL, "10s",
                ConfigOption.SESSION_TTL, "1h", ConfigOption.COOKIE_NAME, "from_params"));
        ConfigSource env = ConfigSource.environment(Map.of("IDE_PROXY_TOKEN_TTL", "20s", "IDE_PROXY_SESSION_TTL", "2h"));
        Properties props = new Properties();
        props.setProperty("ide-proxy.token.ttl", "30s");
        IdeProxyConfig c = IdeProxyConfig.from(params.overriddenBy(env).overriddenBy(ConfigSource.systemProperties(props)));
        assertEquals(Duration.ofSeconds(30), c.tokenTtl(), "system property wins");
        assertEquals(Duration.ofHours(2), c.sessionTtl(), "environment beats parameters");
        assertEquals("from_params", c.cookieName(), "parameters beat defaults");
    }

    @Test
    void toStringHidesSecrets() {
        String text = valid().set(ConfigOption.AUTH_JWT_HS256_SECRET, "z".repeat(40)).build().toString();
        assertFalse(text.contains(SECRET));
        assertFalse(text.contains("z".repeat(40)));
    }

    private static void assertMessage(IdeProxyConfig.Builder builder, String fragment) {
        ConfigException e = assertThrows(ConfigException.class, builder::build);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}

package dev.ideproxy.redis;

import dev.ideproxy.config.ConfigException;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis stores of one node, sharing one Redis client, and what they need to run: ide-proxy's
 * fleet support. Give every node the same Redis (and the same key prefix):
 *
 * <pre>{@code
 * RedisStores stores = RedisStores.connect("rediss://ide-proxy:secret@redis.internal:6379/0", Duration.ofMillis(500));
 * IdeProxy.builder(config)
 *         .replayStore(stores.replayStore())
 *         .revocationStore(stores.revocationStore())
 *         .activityStore(stores.activityStore())
 *         .build().install(context);
 * // and stores.close() when the application stops
 * }</pre>
 *
 * <p>URIs: {@code redis://[[user:]password@]host[:port][/database]}, {@code rediss://} for TLS,
 * {@code redis-sentinel://[password@]host[:port][,host2[:port2]][/database]#masterName} for a
 * Sentinel-managed primary, {@code redis-socket:///path/to/socket}. Redis Cluster is not supported.
 *
 * <p>Start-up checks everything at once: {@link #connect} fails with one {@link ConfigException}
 * naming {@code ide-proxy.store.redis-uri} (the password masked) when Redis cannot be reached, refuses
 * the credentials or denies a command the stores need. Afterwards the client reconnects by itself;
 * while Redis is away the stores fail closed, with one WARN line per outage and one INFO line when it
 * is back.
 *
 * <p>{@link #close()} closes the connections and stops every thread (the Redis client's and the
 * stores'), so undeploying a web application leaves none behind. Thread-safe.
 */
public final class RedisStores implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RedisStores.class);
    private static final String OPTION = ConfigOption.STORE_REDIS_URI.key();

    /** The prefix of every key and of the channel, unless set otherwise. */
    public static final String DEFAULT_KEY_PREFIX = "ide-proxy:";
    /** The longest wait for one command on the request path, unless set otherwise. */
    public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofMillis(500);
    /** How often every revocation is read again, as the fallback for a missed message, unless set otherwise. */
    public static final Duration DEFAULT_RESYNC_INTERVAL = Duration.ofSeconds(10);
    /** How long an unused workspace's activity is kept, unless set otherwise (as {@code activity.retention}). */
    public static final Duration DEFAULT_ACTIVITY_RETENTION = Duration.ofDays(7);
    /** The shortest wait for a command off the request path (start-up, re-reading revocations, revoking). */
    private static final Duration BACKGROUND_TIMEOUT = Duration.ofSeconds(2);
    /**
     * The longest wait for connecting (and reconnecting) and for the start-up checks: a busy node or
     * Redis can take more than a command timeout to accept a connection, which must not fail start-up.
     */
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);

    private final ClientResources resources;
    private final RedisClient client;
    private final List<AutoCloseable> connections;
    private final ScheduledExecutorService executor;
    private final Outage outage;
    private final RedisReplayStore replayStore;
    private final RedisRevocationStore revocationStore;
    private final RedisActivityStore activityStore;
    private volatile boolean closed;
    /** Every thread of the client and of the stores, joined by {@link #close()}. */
    private final List<Thread> threads;

    private RedisStores(ClientResources resources, RedisClient client, List<AutoCloseable> connections,
                        ScheduledExecutorService executor, List<Thread> threads, Outage outage, RedisReplayStore replayStore,
                        RedisRevocationStore revocationStore, RedisActivityStore activityStore) {
        this.resources = resources;
        this.client = client;
        this.connections = connections;
        this.executor = executor;
        this.threads = threads;
        this.outage = outage;
        this.replayStore = replayStore;
        this.revocationStore = revocationStore;
        this.activityStore = activityStore;
    }

    /**
     * Connects to {@code uri} with the default key prefix and re-read interval.
     *
     * @param uri            a Redis URI (see the class comment); a secret, as it may hold a password
     * @param commandTimeout the longest wait for one command on the request path (about 500 ms)
     * @throws ConfigException when Redis is unreachable, refuses the credentials or a command
     */
    public static RedisStores connect(String uri, Duration commandTimeout) {
        return builder(uri).commandTimeout(commandTimeout).connect();
    }

    /**
     * The stores ide-proxy's configuration asks for: {@code ide-proxy.store.redis-uri} and
     * {@code ide-proxy.store.redis-timeout}; empty when no Redis URI is configured.
     *
     * @throws ConfigException as {@link #connect(String, Duration)}, or for a malformed timeout
     */
    public static Optional<RedisStores> connect(IdeProxyConfig config) {
        String uri = config.value(ConfigOption.STORE_REDIS_URI);
        if (uri == null || uri.isBlank()) {
            return Optional.empty();
        }
        String timeout = config.value(ConfigOption.STORE_REDIS_TIMEOUT);
        Duration commandTimeout = timeout == null ? DEFAULT_COMMAND_TIMEOUT : duration(timeout);
        return Optional.of(builder(uri).commandTimeout(commandTimeout).activityRetention(config.activityRetention())
                .connect());
    }

    /** Starts configuring the stores for {@code uri}. */
    public static Builder builder(String uri) {
        return new Builder(uri);
    }

    /** Bootstrap tokens used once across every node. */
    public RedisReplayStore replayStore() {
        return replayStore;
    }

    /** Revocations that hold on every node. */
    public RedisRevocationStore revocationStore() {
        return revocationStore;
    }

    /** Workspace activity shared by every node: the latest activity over the nodes wins. */
    public RedisActivityStore activityStore() {
        return activityStore;
    }

    /**
     * Removes what Netty (under Lettuce) keeps in the current thread's {@code ThreadLocal}s: a map,
     * of a class of this application's class loader, that each thread calling Redis gets. A
     * container's request threads outlive a redeployed application and would keep that loader, all
     * its classes and their metaspace (every copy of the WAR stayed in Tomcat 11). Call it after each
     * request on threads the application does not own; cheap when there is nothing to remove.
     */
    public static void forgetThreadLocals() {
        io.netty.util.concurrent.FastThreadLocal.removeAll();
    }

    /** Closes the connections and stops the Redis client's threads and the stores' own. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        outage.close();
        revocationStore.close();
        shutdown(resources, client, connections, executor, threads);
        LOG.info("Redis stores closed ({})", outage.where());
    }

    private static void shutdown(ClientResources resources, RedisClient client, List<AutoCloseable> connections,
                                 ScheduledExecutorService executor, List<Thread> threads) {
        if (executor != null) {
            executor.shutdownNow();
        }
        for (AutoCloseable connection : connections) {
            try {
                connection.close();
            } catch (Exception e) {
                LOG.debug("closing a Redis connection: {}", e.toString());
            }
        }
        try {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        } catch (RuntimeException e) {
            LOG.debug("shutting down the Redis client: {}", e.toString());
        }
        try {
            resources.shutdown(0, 2, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.debug("shutting down the Redis client's threads: {}", e.toString());
        }
        try {
            if (executor != null) {
                executor.awaitTermination(2, TimeUnit.SECONDS);
            }
            // Terminated pools may still have threads on their way out; a container looks right after.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            for (Thread thread : threads) {
                thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Options of {@link RedisStores}. Not thread-safe. */
    public static final class Builder {
        private final String uri;
        private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
        private String keyPrefix = DEFAULT_KEY_PREFIX;
        private Duration resyncInterval = DEFAULT_RESYNC_INTERVAL;
        private Duration activityRetention = DEFAULT_ACTIVITY_RETENTION;
        private Clock clock = Clock.systemUTC();

        private Builder(String uri) {
            this.uri = uri;
        }

        /** The longest wait for one command on the request path (marking a token used); default 500 ms. */
        public Builder commandTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("the command timeout must be positive");
            }
            this.commandTimeout = timeout;
            return this;
        }

        /**
         * The prefix of every key and of the channel; default {@code ide-proxy:}. Nodes that
         * share revocations and used tokens must use the same one; separate fleets on one Redis use different ones.
         */
        public Builder keyPrefix(String prefix) {
            if (prefix == null || prefix.isEmpty() || prefix.chars().anyMatch(c -> c <= ' ')) {
                throw new IllegalArgumentException("the key prefix must be non-empty, without spaces or control characters");
            }
            this.keyPrefix = prefix;
            return this;
        }

        /** How often every revocation is read again, as the fallback for a missed message; default 10 s. */
        public Builder resyncInterval(Duration interval) {
            if (interval == null || interval.toMillis() < 100) {
                throw new IllegalArgumentException("the re-read interval must be at least 100ms");
            }
            this.resyncInterval = interval;
            return this;
        }

        /** How long an unused workspace's activity is kept; default 7 days. Give ide-proxy's {@code activity.retention}. */
        public Builder activityRetention(Duration retention) {
            if (retention == null || retention.isNegative() || retention.isZero()) {
                throw new IllegalArgumentException("the activity retention must be positive");
            }
            this.activityRetention = retention;
            return this;
        }

        /** The clock that decides when a revocation is forgotten and stamps activity; give the one ide-proxy uses. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Connects, checks the credentials and the commands the stores need, subscribes and reads
         * every revocation.
         *
         * @throws ConfigException naming {@code ide-proxy.store.redis-uri} (the password masked) when
         *         the URI is malformed, Redis is unreachable, or it refuses the credentials or a command
         */
        public RedisStores connect() {
            if (uri == null || uri.isBlank()) {
                throw new ConfigException(OPTION + " is empty; give redis://[user:password@]host:port[/db]");
            }
            String text = uri.trim();
            List<String> secrets = secretsOf(text);
            RedisURI redisUri;
            try {
                redisUri = RedisURI.create(text);
            } catch (RuntimeException e) {
                throw new ConfigException(OPTION + " is not a Redis URI (redis://[user:password@]host:port[/db],"
                        + " rediss:// for TLS, redis-sentinel://host:port#master): " + mask(e.getMessage(), secrets));
            }
            String where = where(redisUri);
            Outage outage = new Outage(where, secrets);
            Duration background = commandTimeout.compareTo(BACKGROUND_TIMEOUT) > 0 ? commandTimeout : BACKGROUND_TIMEOUT;
            Duration connect = background.compareTo(CONNECT_TIMEOUT) > 0 ? background : CONNECT_TIMEOUT;
            // The URI's timeout bounds the connection handshake (HELLO/AUTH/SELECT); commands get their own below.
            redisUri.setTimeout(connect);

            List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
            ClientResources resources = DefaultClientResources.builder()
                    .threadFactoryProvider(pool -> recording(new io.netty.util.concurrent.DefaultThreadFactory(pool, true),
                            threads))
                    .ioThreadPoolSize(2)
                    .computationThreadPoolSize(1)
                    // Back within a second or two of Redis, not after Lettuce's default of up to 30 s.
                    .reconnectDelay(Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                    .build();
            RedisClient client = RedisClient.create(resources, redisUri);
            client.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    // While disconnected, fail at once (503) rather than queue until the timeout.
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .timeoutOptions(TimeoutOptions.enabled())
                    .socketOptions(SocketOptions.builder().connectTimeout(connect).keepAlive(true).build())
                    .build());
            List<AutoCloseable> connections = new ArrayList<>();
            ScheduledExecutorService executor = null;
            StartUpCommands startUp = new StartUpCommands(connect);
            try {
                StatefulRedisConnection<String, String> requests = client.connect();
                connections.add(requests);
                requests.setTimeout(connect); // start-up checks; the request path's timeout follows
                startUp.run(requests, () -> requests.sync().ping());
                // The commands the stores use, each once, so that a missing ACL permission fails start-up.
                startUp.run(requests, () -> requests.sync().set(
                        new KeyLayout(keyPrefix).used("start-up-check-" + UUID.randomUUID()), "1",
                        SetArgs.Builder.nx().px(1000)));
                requests.setTimeout(commandTimeout);

                StatefulRedisConnection<String, String> backgroundConnection = client.connect();
                connections.add(backgroundConnection);
                backgroundConnection.setTimeout(connect);
                startUp.run(backgroundConnection,
                        () -> backgroundConnection.sync().publish(new KeyLayout(keyPrefix).channel(), "start-up-check"));
                backgroundConnection.setTimeout(background);

                StatefulRedisPubSubConnection<String, String> subscription = client.connectPubSub();
                connections.add(subscription);
                subscription.setTimeout(background);

                executor = executor(threads);
                KeyLayout keys = new KeyLayout(keyPrefix);
                RedisReplayStore replay = new RedisReplayStore(requests.sync(), keys, outage);
                RedisRevocationStore revocations = new RedisRevocationStore(backgroundConnection.sync(),
                        backgroundConnection.async(), subscription, keys, outage, clock, executor, resyncInterval,
                        background);
                RedisActivityStore activity = new RedisActivityStore(backgroundConnection.sync(),
                        backgroundConnection.async(), keys, clock, activityRetention, background);
                startUp.run(backgroundConnection, activity::checkCommands);
                // Over only when every connection is back: Lettuce reconnects the three one by one, and a
                // recovery declared on the revocation side alone would be followed by a second outage when
                // the request path's connection, still reconnecting, refused the next used-token check.
                outage.recoveredWhen(() -> revocations.isSynchronised() && requests.isOpen()
                        && backgroundConnection.isOpen());
                revocations.start(startUp);
                LOG.info("Redis stores connected to {} (key prefix {}, command timeout {} ms): used tokens,"
                        + " revocations and workspace activity are shared by every node using it", where, keyPrefix,
                        commandTimeout.toMillis());
                return new RedisStores(resources, client, connections, executor, threads, outage, replay, revocations,
                        activity);
            } catch (RuntimeException e) {
                shutdown(resources, client, connections, executor, threads);
                throw startFailure(e, where, secrets);
            }
        }

        /** Lettuce's threads as Netty makes them, each also added to {@code threads}. */
        private static java.util.concurrent.ThreadFactory recording(java.util.concurrent.ThreadFactory factory,
                                                                     List<Thread> threads) {
            return runnable -> {
                Thread thread = factory.newThread(runnable);
                threads.add(thread);
                return thread;
            };
        }

        private static ScheduledExecutorService executor(List<Thread> threads) {
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
                Thread thread = new Thread(runnable, "ide-proxy-redis-revocations");
                thread.setDaemon(true);
                threads.add(thread);
                return thread;
            });
            executor.setRemoveOnCancelPolicy(true);
            executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            return executor;
        }
    }

    /** One line naming the option: what is wrong, never the password. */
    private static ConfigException startFailure(RuntimeException e, String where, List<String> secrets) {
        String error = errorReply(e);
        String problem;
        if (error != null && (error.startsWith("WRONGPASS") || error.startsWith("NOAUTH")
                || error.contains("invalid password") || error.contains("invalid username-password"))) {
            problem = "Redis at " + where + " refused the credentials (" + error + ")";
        } else if (error != null && error.startsWith("NOPERM")) {
            problem = "Redis at " + where + " denies the user a command or key ide-proxy needs (" + error
                    + "); see docs/security.md for the ACL";
        } else if (error != null) {
            problem = "Redis at " + where + " answered with an error (" + error + ")";
        } else {
            problem = "cannot reach Redis at " + where + " (" + rootMessage(e) + ")";
        }
        return new ConfigException(OPTION + ": " + mask(problem, secrets));
    }

    /** The error reply of Redis in {@code e}'s causes, or null. */
    private static String errorReply(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof RedisCommandExecutionException && t.getMessage() != null) {
                return t.getMessage();
            }
            String message = t.getMessage();
            if (message != null && (message.contains("WRONGPASS") || message.contains("NOAUTH")
                    || message.contains("NOPERM"))) {
                int at = message.indexOf("WRONGPASS");
                at = at >= 0 ? at : message.indexOf("NOAUTH");
                at = at >= 0 ? at : message.indexOf("NOPERM");
                return message.substring(at);
            }
        }
        return null;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t.getMessage();
        return message == null || message.isBlank() ? t.getClass().getSimpleName() : message;
    }

    /** The server for log lines and errors: host:port/db, or the Sentinel master; never credentials. */
    static String where(RedisURI uri) {
        String db = uri.getDatabase() == 0 ? "" : "/" + uri.getDatabase();
        String tls = uri.isSsl() ? " (TLS)" : "";
        if (uri.getSocket() != null) {
            return uri.getSocket() + db;
        }
        if (uri.getSentinelMasterId() != null) {
            List<String> sentinels = new ArrayList<>();
            for (RedisURI s : uri.getSentinels()) {
                sentinels.add(s.getHost() + ":" + s.getPort());
            }
            return "master " + uri.getSentinelMasterId() + db + " via Sentinel " + String.join(",", sentinels) + tls;
        }
        return uri.getHost() + ":" + uri.getPort() + db + tls;
    }

    /** The user info of {@code uri} and its parts (raw and decoded): never printed. */
    static List<String> secretsOf(String uri) {
        List<String> secrets = new ArrayList<>();
        Matcher m = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)@").matcher(uri);
        if (m.find()) {
            String userInfo = m.group(1);
            secrets.add(userInfo);
            int colon = userInfo.indexOf(':');
            String password = colon >= 0 ? userInfo.substring(colon + 1) : userInfo;
            secrets.add(password);
            try {
                secrets.add(URLDecoder.decode(password, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException ignored) {
                // not percent-encoded
            }
        }
        secrets.removeIf(String::isEmpty);
        // Longest first, so that the whole user info is masked before its parts.
        secrets.sort((a, b) -> b.length() - a.length());
        return secrets;
    }

    private static String mask(String text, List<String> secrets) {
        String out = text == null ? "" : text;
        for (String secret : secrets) {
            out = out.replace(secret, "****");
        }
        return out.replaceAll("[\\r\\n\\t]+", " ").trim();
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m)");

    /** {@code 500ms}, {@code 2s}, {@code 1m} or ISO-8601 ({@code PT0.5S}); positive. */
    static Duration duration(String raw) {
        String value = raw.trim();
        Duration d = null;
        Matcher m = DURATION.matcher(value);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            d = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMinutes(n);
            };
        } else {
            try {
                d = Duration.parse(value.toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException ignored) {
                // reported below
            }
        }
        if (d == null || d.isNegative() || d.isZero()) {
            throw new ConfigException(ConfigOption.STORE_REDIS_TIMEOUT.key() + " must be a positive duration such as"
                    + " 500ms or 2s, not '" + value + "'");
        }
        return d;
    }
}

package dev.ideproxy.internal.telemetry;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * {@link Telemetry} recorded in a Micrometer {@link MeterRegistry}: the only class of ide-proxy that
 * refers to Micrometer, loaded only when a registry is given. Names follow Micrometer's conventions
 * under {@code ide_proxy} ({@code docs/operations.md} lists every meter as Prometheus shows it).
 *
 * <p>Every meter is resolved once, at start-up or at the first use of its tag combination, and kept
 * in an array indexed by enum ordinals: a call on the request path reads an array slot and updates a
 * counter or a timer, and builds no tag list. Tags never carry a workspace id, path, user or token,
 * unless {@code metrics.workspace-tag} adds the workspace id (a {@code workspace} tag on the meters
 * of traffic, mints, bootstraps, relays and sessions; {@code -} where the workspace is not proven).
 * With it, each workspace's meters stay in the registry for the life of the proxy: for small fleets.
 *
 * <p>Thread-safe.
 */
public final class MicrometerTelemetry implements Telemetry {
    static final String PREFIX = "ide_proxy.";
    /** The {@code workspace} tag's value for events of no proven workspace. */
    static final String NO_WORKSPACE = "-";
    /** Methods with a tag of their own; any other is {@code other}. */
    private static final String[] METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other"};
    private static final String[] STATUS_CLASSES = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    private static final Outcome[] OUTCOMES = Outcome.values();
    private static final Protocol[] PROTOCOLS = Protocol.values();
    private static final Direction[] DIRECTIONS = Direction.values();
    private static final UpstreamFailure[] FAILURES = UpstreamFailure.values();
    private static final TokenOutcome[] TOKEN_OUTCOMES = TokenOutcome.values();
    private static final StoreCall[] STORE_CALLS = StoreCall.values();
    /** Close codes with a tag of their own: 1000 to 1015; then 3xxx, 4xxx and other. */
    private static final int FIRST_CODE = 1000;
    private static final int LAST_CODE = 1015;
    private static final int CLOSE_SLOTS = LAST_CODE - FIRST_CODE + 1 + 3;

    private final MeterRegistry registry;
    private final boolean workspaceTag;
    private final Meters shared;
    private final Map<String, Meters> byWorkspace = new ConcurrentHashMap<>();
    /** By {@link StoreCall} ordinal, then ok (0) or error (1). */
    private final Timer[] storeCalls = new Timer[STORE_CALLS.length * 2];

    /**
     * @param registry     where the meters are registered (give each proxy its own, or add common tags)
     * @param workspaceTag whether meters of traffic carry the workspace id ({@code metrics.workspace-tag})
     */
    public MicrometerTelemetry(MeterRegistry registry, boolean workspaceTag) {
        this.registry = registry;
        this.workspaceTag = workspaceTag;
        this.shared = workspaceTag ? null : new Meters(null);
        for (StoreCall call : STORE_CALLS) {
            for (int failed = 0; failed < 2; failed++) {
                storeCalls[call.ordinal() * 2 + failed] = Timer.builder(PREFIX + "store.calls")
                        .description("Calls to the replay and revocation stores, by store, operation and outcome (ok, error)")
                        .tags("store", call.store(), "operation", call.operation(), "outcome", failed == 0 ? "ok" : "error")
                        .register(registry);
            }
        }
    }

    /** The telemetry of {@code registry}; takes {@code Object} so that callers' signatures name no Micrometer type. */
    public static Telemetry of(Object registry, boolean workspaceTag) {
        return new MicrometerTelemetry((MeterRegistry) registry, workspaceTag);
    }

    @Override
    public boolean isEnabled() {
        return true;
    }

    @Override
    public void tunnelRequest(String workspaceId, String method, int status, Outcome outcome, long nanos) {
        meters(workspaceId).request(methodIndex(method), statusIndex(status), outcome.ordinal())
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void upstreamFailure(String workspaceId, Protocol protocol, UpstreamFailure kind) {
        meters(workspaceId).upstreamFailures[protocol.ordinal() * FAILURES.length + kind.ordinal()].increment();
    }

    @Override
    public void httpData(String workspaceId, Direction direction, long bytes) {
        meters(workspaceId).relayed[Protocol.HTTP.ordinal() * DIRECTIONS.length + direction.ordinal()].increment(bytes);
    }

    @Override
    public void webSocketData(String workspaceId, Direction direction, long bytes, boolean endOfMessage) {
        Meters m = meters(workspaceId);
        if (bytes > 0) {
            m.relayed[Protocol.WEBSOCKET.ordinal() * DIRECTIONS.length + direction.ordinal()].increment(bytes);
        }
        if (endOfMessage) {
            m.messages[direction.ordinal()].increment();
        }
    }

    @Override
    public void mint(String workspaceId, TokenOutcome outcome) {
        meters(workspaceId).mints[outcome.ordinal()].increment();
    }

    @Override
    public void bootstrap(String workspaceId, TokenOutcome outcome) {
        meters(workspaceId).bootstraps[outcome.ordinal()].increment();
    }

    @Override
    public void relayOpened(String workspaceId) {
        Meters m = meters(workspaceId);
        m.live.incrementAndGet();
        m.opened.increment();
    }

    @Override
    public void relayClosed(String workspaceId, int closeCode) {
        Meters m = meters(workspaceId);
        m.live.decrementAndGet();
        m.closed(closeSlot(closeCode)).increment();
    }

    @Override
    public void sessionRenewed(String workspaceId) {
        meters(workspaceId).renewed.increment();
    }

    @Override
    public void sessionsRevoked(String workspaceId) {
        meters(workspaceId).revoked.increment();
    }

    @Override
    public void storeCall(StoreCall call, long nanos, boolean failed) {
        storeCalls[call.ordinal() * 2 + (failed ? 1 : 0)].record(nanos, TimeUnit.NANOSECONDS);
    }

    private Meters meters(String workspaceId) {
        if (!workspaceTag) {
            return shared;
        }
        String key = workspaceId == null ? NO_WORKSPACE : workspaceId;
        Meters m = byWorkspace.get(key);
        return m != null ? m : byWorkspace.computeIfAbsent(key, Meters::new);
    }

    static int methodIndex(String method) {
        return switch (method) {
            case "GET" -> 0;
            case "HEAD" -> 1;
            case "POST" -> 2;
            case "PUT" -> 3;
            case "DELETE" -> 4;
            case "PATCH" -> 5;
            case "OPTIONS" -> 6;
            default -> 7;
        };
    }

    static int statusIndex(int status) {
        return Math.max(0, Math.min(4, status / 100 - 1));
    }

    static int closeSlot(int code) {
        if (code >= FIRST_CODE && code <= LAST_CODE) {
            return code - FIRST_CODE;
        }
        int buckets = LAST_CODE - FIRST_CODE + 1;
        return code >= 3000 && code <= 3999 ? buckets : code >= 4000 && code <= 4999 ? buckets + 1 : buckets + 2;
    }

    static String closeTag(int slot) {
        int buckets = LAST_CODE - FIRST_CODE + 1;
        return slot < buckets ? Integer.toString(FIRST_CODE + slot) : slot == buckets ? "3xxx" : slot == buckets + 1
                ? "4xxx" : "other";
    }

    /** The meters of one workspace tag value, or the only set without the tag. */
    private final class Meters {
        private final Tags base;
        private final AtomicReferenceArray<Timer> requests =
                new AtomicReferenceArray<>(METHODS.length * STATUS_CLASSES.length * OUTCOMES.length);
        private final AtomicReferenceArray<Counter> closes = new AtomicReferenceArray<>(CLOSE_SLOTS);
        final Counter[] upstreamFailures = new Counter[PROTOCOLS.length * FAILURES.length];
        final Counter[] relayed = new Counter[PROTOCOLS.length * DIRECTIONS.length];
        final Counter[] messages = new Counter[DIRECTIONS.length];
        final Counter[] mints = new Counter[TOKEN_OUTCOMES.length];
        final Counter[] bootstraps = new Counter[TOKEN_OUTCOMES.length];
        final Counter opened;
        final Counter renewed;
        final Counter revoked;
        /** Held here: a gauge keeps only a weak reference to what it reads. */
        final AtomicInteger live = new AtomicInteger();

        /** @param workspace the workspace tag's value, or null for no such tag */
        Meters(String workspace) {
            this.base = workspace == null ? Tags.empty() : Tags.of("workspace", workspace);
            for (Protocol protocol : PROTOCOLS) {
                for (UpstreamFailure kind : FAILURES) {
                    upstreamFailures[protocol.ordinal() * FAILURES.length + kind.ordinal()] = Counter
                            .builder(PREFIX + "upstream.failures")
                            .description("Upstreams that failed: HTTP exchanges, WebSocket handshakes and live relays,"
                                    + " by kind (refused, timeout, reset)")
                            .tags(base).tags("protocol", protocol.tag(), "kind", kind.tag())
                            .register(registry);
                }
                for (Direction direction : DIRECTIONS) {
                    relayed[protocol.ordinal() * DIRECTIONS.length + direction.ordinal()] = Counter
                            .builder(PREFIX + "relayed")
                            .description("Payload relayed through the tunnel: HTTP bodies and WebSocket message data")
                            .baseUnit("bytes")
                            .tags(base).tags("protocol", protocol.tag(), "direction", direction.tag())
                            .register(registry);
                }
            }
            for (Direction direction : DIRECTIONS) {
                messages[direction.ordinal()] = Counter.builder(PREFIX + "websocket.messages")
                        .description("WebSocket data messages relayed")
                        .tags(base).tags("direction", direction.tag())
                        .register(registry);
            }
            for (TokenOutcome outcome : TOKEN_OUTCOMES) {
                if (outcome.ofMint()) {
                    mints[outcome.ordinal()] = Counter.builder(PREFIX + "mints")
                            .description("Bootstrap links requested (POST /api/dev/{id}/ide-token), by outcome")
                            .tags(base).tags("outcome", outcome.tag())
                            .register(registry);
                }
                if (outcome.ofBootstrap()) {
                    bootstraps[outcome.ordinal()] = Counter.builder(PREFIX + "bootstraps")
                            .description("Bootstrap links opened (GET /api/dev/{id}/ide), by outcome")
                            .tags(base).tags("outcome", outcome.tag())
                            .register(registry);
                }
            }
            opened = Counter.builder(PREFIX + "websocket.relays.opened")
                    .description("WebSocket relays established (both sides open)")
                    .tags(base).register(registry);
            Gauge.builder(PREFIX + "websocket.relays.live", live, AtomicInteger::get)
                    .description("WebSocket relays established and not yet ended")
                    .tags(base).register(registry);
            renewed = Counter.builder(PREFIX + "sessions.renewed")
                    .description("Session cookies renewed while in use")
                    .tags(base).register(registry);
            revoked = Counter.builder(PREFIX + "sessions.revocations")
                    .description("Revocations recorded (POST /api/dev/{id}/revoke, IdeProxy.revokeSessions)")
                    .tags(base).register(registry);
        }

        Timer request(int method, int status, int outcome) {
            int slot = (method * STATUS_CLASSES.length + status) * OUTCOMES.length + outcome;
            Timer timer = requests.get(slot);
            if (timer == null) {
                // Registering twice returns the same timer: a race costs a lookup, never a second meter.
                timer = Timer.builder(PREFIX + "tunnel.requests")
                        .description("Requests to the tunnel (/__ide/{id}/...), HTTP and WebSocket handshakes, by"
                                + " method, status class and outcome")
                        .tags(base).tags("method", METHODS[method], "status", STATUS_CLASSES[status],
                                "outcome", OUTCOMES[outcome].tag())
                        .register(registry);
                requests.set(slot, timer);
            }
            return timer;
        }

        Counter closed(int slot) {
            Counter counter = closes.get(slot);
            if (counter == null) {
                counter = Counter.builder(PREFIX + "websocket.relays.closed")
                        .description("Established WebSocket relays that ended, by the close code of the browser's side")
                        .tags(base).tags("code", closeTag(slot))
                        .register(registry);
                closes.set(slot, counter);
            }
            return counter;
        }
    }
}

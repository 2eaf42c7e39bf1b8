package dev.ideproxy.internal.telemetry;

/**
 * Where the choke points of ide-proxy report what happened: each tunnel request, each failure of an
 * upstream, each mint and bootstrap, the bytes and messages relayed, WebSocket relays opening and
 * closing, session renewals and revocations, calls to the shared stores. Without a meter registry
 * ({@code IdeProxy.Builder.meterRegistry}) it is {@link #NONE}, which records nothing and refers to no
 * Micrometer type, so a host application without Micrometer works and pays for nothing.
 *
 * <p>Every method is called on the request path or per WebSocket frame: an implementation must be
 * cheap (resolved counters and timers, no allocation per call) and must never throw. A
 * {@code workspaceId} is given only where the workspace is proven (an authenticated session, an
 * allowed mint, a verified link); otherwise it is null. Implementations never put it in a tag unless
 * told to ({@code metrics.workspace-tag}).
 *
 * <p>Implementations are thread-safe.
 */
public interface Telemetry {

    /** Records nothing: the default without a meter registry. */
    Telemetry NONE = new Telemetry() {
    };

    /** How a request to the tunnel ended. */
    enum Outcome {
        /** The upstream answered and its answer was relayed, whatever its status. */
        PROXIED,
        /** A WebSocket handshake accepted on both sides: the relay runs. */
        UPGRADED,
        /** {@code /__ide/{id}} sent to {@code /__ide/{id}/}, where the session cookie applies. */
        REDIRECTED,
        /** Answered by ide-proxy without contacting the upstream: bad path, no session, unknown workspace, a limit... */
        REFUSED,
        /** The upstream could not be reached, did not answer in time, or broke the exchange. */
        UPSTREAM_ERROR,
        /** The browser's side failed: it went away, sent a broken body, or its WebSocket upgrade failed. */
        CLIENT_ERROR;

        /** The tag value, e.g. {@code upstream_error}. */
        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** The two kinds of traffic through the tunnel. */
    enum Protocol {
        HTTP, WEBSOCKET;

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Which way bytes cross the proxy. */
    enum Direction {
        /** From the browser to the workspace. */
        TO_UPSTREAM,
        /** From the workspace to the browser. */
        TO_BROWSER;

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Why an upstream failed. */
    enum UpstreamFailure {
        /** No connection could be made (refused, no route, unknown host) or the answer was unusable. */
        REFUSED,
        /** No answer in time (connect or idle timeout). */
        TIMEOUT,
        /** An established connection ended without a proper end. */
        RESET;

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** How a mint ({@code POST /api/dev/{id}/ide-token}) or a bootstrap ({@code GET /api/dev/{id}/ide}) ended. */
    enum TokenOutcome {
        OK(true, true),
        /** Mint: the access policy found no credentials. */
        UNAUTHENTICATED(true, false),
        /** Mint: the access policy refused. */
        FORBIDDEN(true, false),
        UNKNOWN_WORKSPACE(true, true),
        RATE_LIMITED(true, true),
        /**
         * A malformed request: wrong method or address, a missing or malformed token, one for another
         * workspace or of another kind, a bad landing path, a bootstrap on another host than the workspace's.
         */
        INVALID(true, true),
        EXPIRED(false, true),
        /** The link was used before. */
        REPLAYED(false, true),
        /** Signed with a wrong or unknown key. */
        BAD_SIGNATURE(false, true),
        /** The user's sessions on the workspace were revoked after the link was minted. */
        REVOKED(false, true),
        /** The replay or revocation store could not answer (fail closed: 503). */
        STORE_UNAVAILABLE(false, true);

        private final boolean mint;
        private final boolean bootstrap;

        TokenOutcome(boolean mint, boolean bootstrap) {
            this.mint = mint;
            this.bootstrap = bootstrap;
        }

        /** Whether a mint can end this way. */
        public boolean ofMint() {
            return mint;
        }

        /** Whether a bootstrap can end this way. */
        public boolean ofBootstrap() {
            return bootstrap;
        }

        public String tag() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** A call to one of the stores nodes share. */
    enum StoreCall {
        REPLAY_MARK_USED("replay", "mark_used"),
        REVOCATION_REVOKE("revocation", "revoke"),
        REVOCATION_REVOKED_AT("revocation", "revoked_at");

        private final String store;
        private final String operation;

        StoreCall(String store, String operation) {
            this.store = store;
            this.operation = operation;
        }

        public String store() {
            return store;
        }

        public String operation() {
            return operation;
        }
    }

    /** False for {@link #NONE}: callers may skip what only serves telemetry (reading the clock, a request attribute). */
    default boolean isEnabled() {
        return false;
    }

    /**
     * One request to the tunnel ({@code /__ide/{id}/...}), HTTP or WebSocket handshake, once it ended.
     *
     * @param method the request's method
     * @param status the status answered (101 for an upgrade)
     * @param nanos  from the tunnel filter's first look at the request to the end of the exchange
     */
    default void tunnelRequest(String workspaceId, String method, int status, Outcome outcome, long nanos) {
    }

    /** An upstream failed: an HTTP exchange, a WebSocket handshake or a live relay's upstream connection. */
    default void upstreamFailure(String workspaceId, Protocol protocol, UpstreamFailure kind) {
    }

    /** {@code bytes} of an HTTP body relayed (a request body chunk sent upstream, a response chunk written to the browser). */
    default void httpData(String workspaceId, Direction direction, long bytes) {
    }

    /**
     * {@code bytes} of WebSocket payload (a data frame or part of one) relayed;
     * {@code endOfMessage} when it was the last part of a message.
     */
    default void webSocketData(String workspaceId, Direction direction, long bytes, boolean endOfMessage) {
    }

    /** A mint ended; {@code workspaceId} only when the access policy allowed it. */
    default void mint(String workspaceId, TokenOutcome outcome) {
    }

    /** A bootstrap ended; {@code workspaceId} only when the link verified for it. */
    default void bootstrap(String workspaceId, TokenOutcome outcome) {
    }

    /** A WebSocket relay is established (both sides open). */
    default void relayOpened(String workspaceId) {
    }

    /** An established relay ended with {@code closeCode} towards the browser (or the browser's own code when it closed). */
    default void relayClosed(String workspaceId, int closeCode) {
    }

    /** A session cookie was renewed. */
    default void sessionRenewed(String workspaceId) {
    }

    /** A revocation was recorded ({@code workspaceId} null for one that covers every workspace). */
    default void sessionsRevoked(String workspaceId) {
    }

    /** A call to a shared store returned ({@code failed} false) or threw ({@code failed} true) after {@code nanos}. */
    default void storeCall(StoreCall call, long nanos, boolean failed) {
    }
}

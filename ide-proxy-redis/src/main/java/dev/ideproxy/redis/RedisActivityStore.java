package dev.ideproxy.redis;

import dev.ideproxy.activity.ActivityStore;
import dev.ideproxy.activity.WorkspaceActivity;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.Range;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScoredValue;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * An {@link ActivityStore} in Redis, shared by every node: any node answers the activity endpoints for
 * the fleet, and the latest activity over the nodes wins.
 *
 * <ul>
 *   <li>{@code <prefix>activity}: a sorted set of workspace ids scored by their last activity in ms,
 *   so that the idle listing is one {@code ZRANGEBYSCORE};</li>
 *   <li>{@code <prefix>activity:<workspace>}: a hash with {@code at} (the last activity, ms),
 *   {@code user} (its user) and, per node with live WebSockets, {@code n:<node id>} = its count and
 *   the instant (ms) after which the count is stale. A node renews its count every interval; a count
 *   not renewed within {@value #RENEWALS_MISSED} intervals (a node that stopped without saying so) is
 *   ignored. The hash expires one retention after its last write.</li>
 * </ul>
 * A node records its changes once per interval, one small Lua script per workspace, pipelined: the
 * script moves {@code at}, {@code user} and the score only forward, so an older activity never
 * replaces a newer one. Workspaces unused for the retention leave the sorted set at the next record.
 * Nothing here runs on the tunnel's request path.
 *
 * <p>Obtain it from {@link RedisStores}. Thread-safe.
 */
public final class RedisActivityStore implements ActivityStore {
    /** A node's count of live WebSockets is ignored after this many intervals without renewal. */
    static final int RENEWALS_MISSED = 3;
    private static final String NODE_FIELD = "n:";

    /** KEYS: index, hash. ARGV: workspace, at (ms), user ("" = none), node field, count, count expiry (ms), ttl (ms). */
    static final String RECORD = """
            local at = tonumber(ARGV[2])
            local current = tonumber(redis.call('HGET', KEYS[2], 'at')) or -1
            if at > current then
              redis.call('HSET', KEYS[2], 'at', ARGV[2], 'user', ARGV[3])
              redis.call('ZADD', KEYS[1], at, ARGV[1])
            end
            if tonumber(ARGV[5]) > 0 then
              redis.call('HSET', KEYS[2], ARGV[4], ARGV[5] .. ' ' .. ARGV[6])
            else
              redis.call('HDEL', KEYS[2], ARGV[4])
            end
            redis.call('PEXPIRE', KEYS[2], ARGV[7])
            return 1
            """;

    private final RedisCommands<String, String> redis;
    private final RedisAsyncCommands<String, String> redisAsync;
    private final KeyLayout keys;
    private final Clock clock;
    private final Duration retention;
    private final Duration timeout;
    private final String nodeField = NODE_FIELD + UUID.randomUUID();

    RedisActivityStore(RedisCommands<String, String> redis, RedisAsyncCommands<String, String> redisAsync,
                       KeyLayout keys, Clock clock, Duration retention, Duration timeout) {
        this.redis = redis;
        this.redisAsync = redisAsync;
        this.keys = keys;
        this.clock = clock;
        this.retention = retention;
        this.timeout = timeout;
    }

    /** Runs the record script and the reads once with nothing to change: a missing ACL permission fails start-up. */
    void checkCommands() {
        redis.eval(RECORD, ScriptOutputType.INTEGER, new String[] {keys.activityIndex(), keys.activity("start-up-check")},
                "start-up-check", "-1", "", nodeField, "0", "0", "1000");
        redis.zrangebyscoreWithScores(keys.activityIndex(), Range.create(-1.0, -1.0));
        redis.zremrangebyscore(keys.activityIndex(), Range.create(-1.0, -1.0));
        redis.hgetall(keys.activity("start-up-check"));
    }

    @Override
    public void record(List<WorkspaceActivity> activity, Duration interval) {
        long now = clock.millis();
        String countExpiry = Long.toString(now + RENEWALS_MISSED * interval.toMillis());
        String ttl = Long.toString(retention.toMillis());
        List<RedisFuture<?>> pending = new ArrayList<>(activity.size() + 1);
        for (WorkspaceActivity a : activity) {
            pending.add(redisAsync.eval(RECORD, ScriptOutputType.INTEGER,
                    new String[] {keys.activityIndex(), keys.activity(a.workspace())},
                    a.workspace(), Long.toString(a.lastActivity().toEpochMilli()), a.user() == null ? "" : a.user(),
                    nodeField, Integer.toString(a.liveWebSockets()), countExpiry, ttl));
        }
        pending.add(redisAsync.zremrangebyscore(keys.activityIndex(),
                Range.from(Range.Boundary.unbounded(), Range.Boundary.excluding((double) (now - retention.toMillis())))));
        await(pending);
    }

    @Override
    public Optional<WorkspaceActivity> find(String workspace) {
        Objects.requireNonNull(workspace, "workspace");
        return Optional.ofNullable(parse(workspace, null, redis.hgetall(keys.activity(workspace)), clock.millis()));
    }

    @Override
    public List<WorkspaceActivity> inactiveSince(Instant cutoff) {
        double before = cutoff.equals(Instant.MAX) ? Double.POSITIVE_INFINITY : (double) cutoff.toEpochMilli();
        List<ScoredValue<String>> idle = redis.zrangebyscoreWithScores(keys.activityIndex(),
                Range.from(Range.Boundary.unbounded(), Range.Boundary.excluding(before)));
        List<RedisFuture<Map<String, String>>> hashes = new ArrayList<>(idle.size());
        for (ScoredValue<String> entry : idle) {
            hashes.add(redisAsync.hgetall(keys.activity(entry.getValue())));
        }
        await(hashes);
        long now = clock.millis();
        List<WorkspaceActivity> found = new ArrayList<>(idle.size());
        for (int i = 0; i < idle.size(); i++) {
            ScoredValue<String> entry = idle.get(i);
            WorkspaceActivity a = parse(entry.getValue(), (long) entry.getScore(), getNow(hashes.get(i)), now);
            if (a != null && a.lastActivity().toEpochMilli() < before) {
                found.add(a);
            }
        }
        return found;
    }

    /** The activity in a workspace's hash (or only its score, when the hash is gone), or null. */
    private static WorkspaceActivity parse(String workspace, Long score, Map<String, String> hash, long now) {
        String at = hash == null ? null : hash.get("at");
        Long millis = at != null ? Long.valueOf(at) : score;
        if (millis == null) {
            return null;
        }
        int live = 0;
        if (hash != null) {
            for (Map.Entry<String, String> field : hash.entrySet()) {
                if (field.getKey().startsWith(NODE_FIELD)) {
                    String[] countAndExpiry = field.getValue().split(" ");
                    if (countAndExpiry.length == 2 && Long.parseLong(countAndExpiry[1]) > now) {
                        live += Integer.parseInt(countAndExpiry[0]);
                    }
                }
            }
        }
        String user = hash == null ? null : hash.get("user");
        return new WorkspaceActivity(workspace, user == null || user.isEmpty() ? null : user,
                Instant.ofEpochMilli(millis), live);
    }

    private <T> T getNow(RedisFuture<T> future) {
        return LettuceFutures.awaitOrCancel(future, timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void await(List<? extends RedisFuture<?>> futures) {
        for (RedisFuture<?> future : futures) {
            LettuceFutures.awaitOrCancel(future, timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}

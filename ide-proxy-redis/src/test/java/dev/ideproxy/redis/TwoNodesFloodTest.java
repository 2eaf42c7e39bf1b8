package dev.ideproxy.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ideproxy.IdeProxy;
import dev.ideproxy.config.ConfigOption;
import dev.ideproxy.config.IdeProxyConfig;
import dev.ideproxy.testing.Browser;
import dev.ideproxy.testing.Container;
import dev.ideproxy.testing.Portal;
import dev.ideproxy.testing.Upstream;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One flooding user cannot lock the others out of a fleet: two nodes (embedded Jetty 12 and Tomcat 11)
 * on one real Redis, with the library's <em>default</em> limits ({@code limit.mint-per-user} and
 * {@code limit.bootstrap-per-user} 30/1m, per node). The flooder is refused with 429 and
 * {@code Retry-After} on both nodes, for minting and for opening sessions, while another user of the
 * same workspace mints and opens sessions on both; and the flooder's used links in Redis stay bounded
 * by the limits (a refused link is never stored).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TwoNodesFloodTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The defaults, per node: 30 at once, then one every 2 s. */
    private static final int BURST = 30;
    private static final double REFILL_PER_SECOND = 30 / 60.0;
    /**
     * Links the flooder holds before redeeming: more than both nodes' bootstrap buckets (2 × 30) can
     * take, with room for the refill while they are redeemed (10 s worth, at 2 × 0.5 per second).
     */
    private static final int HOARD = 2 * BURST + 12;

    @Test
    void aFloodingUserGets429OnEachNodeWhileAnotherUserStillGetsIn() throws Exception {
        try (RedisServer redis = RedisServer.start();
             Upstream upstream = new Upstream("H");
             RedisStores stores1 = RedisStores.connect(redis.uri(), Duration.ofSeconds(5));
             RedisStores stores2 = RedisStores.connect(redis.uri(), Duration.ofSeconds(5));
             Container.Running node1 = Container.JETTY.start("", proxy(stores1, upstream));
             Container.Running node2 = Container.TOMCAT.start("", proxy(stores2, upstream))) {
            List<Container.Running> nodes = List.of(node1, node2);
            List<Browser> flooder = List.of(new Browser(node1), new Browser(node2));
            List<Browser> other = List.of(new Browser(node1), new Browser(node2));
            String flooderBearer = "Bearer " + Portal.bearer("mallory", "a");
            String otherBearer = "Bearer " + Portal.bearer("olivia", "a");

            // 1. The flooder mints on both nodes as fast as they let it (polling every 200 ms once
            //    refused), until it holds more links than both nodes together may redeem at once and
            //    its latest attempt on each node was refused.
            long floodStart = System.nanoTime();
            Deque<String> links = new ArrayDeque<>();
            int[] minted = new int[2];
            int[] mintRefused = new int[2];
            boolean[] refusedLast = new boolean[2];
            while (links.size() < HOARD || !refusedLast[0] || !refusedLast[1]) {
                assertTrue(System.nanoTime() - floodStart < TimeUnit.SECONDS.toNanos(90),
                        "the flood took too long: " + links.size() + " links");
                boolean gotOne = false;
                for (int n = 0; n < 2; n++) {
                    HttpResponse<String> r = flooder.get(n).mint("a", flooderBearer);
                    if (r.statusCode() == 200) {
                        links.add(JSON.readTree(r.body()).get("bootstrapUrl").asText());
                        minted[n]++;
                        refusedLast[n] = false;
                        gotOne = true;
                    } else {
                        assertEquals(429, r.statusCode(), r.body());
                        assertRetryAfter(r);
                        assertTrue(r.body().contains("too many links minted by this user"), r.body());
                        mintRefused[n]++;
                        refusedLast[n] = true;
                    }
                }
                if (!gotOne) {
                    Thread.sleep(200);
                }
            }
            double mintSeconds = seconds(floodStart);
            for (int n = 0; n < 2; n++) {
                assertTrue(mintRefused[n] > 0, "node " + (n + 1) + " never refused the flooder's mint");
                assertTrue(minted[n] <= BURST + REFILL_PER_SECOND * mintSeconds + 1, "node " + (n + 1) + " minted "
                        + minted[n] + " links in " + mintSeconds + " s");
            }

            // ...and right then the other user, on the same workspace, mints on both nodes.
            String otherLink1 = mintedLink(other.get(0).mint("a", otherBearer));
            String otherLink2 = mintedLink(other.get(1).mint("a", otherBearer));

            // 2. The flooder redeems its links on node 1 until it is refused, then on node 2 likewise.
            //    A refused link is not used up (it stays at the head of the queue for the next node).
            //    After each refusal the other user opens a session on that node, with a link minted on
            //    the other node.
            long redeemStart = System.nanoTime();
            int[] sessions = new int[2];
            String[] otherCookies = new String[2];
            for (int n = 0; n < 2; n++) {
                HttpResponse<String> refused = null;
                while (!links.isEmpty()) {
                    HttpResponse<String> r = flooder.get(n).getPath(links.peek(), null);
                    if (r.statusCode() == 303) {
                        links.poll();
                        sessions[n]++;
                        continue;
                    }
                    refused = r;
                    break;
                }
                assertTrue(refused != null, "node " + (n + 1) + " opened all of the flooder's links: "
                        + sessions[0] + " + " + sessions[1] + " sessions");
                assertEquals(429, refused.statusCode(), refused.body());
                assertRetryAfter(refused);
                assertTrue(refused.headers().firstValue("Set-Cookie").isEmpty(), "a refused bootstrap set a cookie");

                HttpResponse<String> in = other.get(n).getPath(n == 0 ? otherLink2 : otherLink1, null);
                assertEquals(303, in.statusCode(), "the other user's bootstrap on node " + (n + 1) + ": " + in.body());
                String setCookie = in.headers().firstValue("Set-Cookie").orElseThrow();
                otherCookies[n] = setCookie.substring(0, setCookie.indexOf(';'));
            }
            double redeemSeconds = seconds(redeemStart);
            for (int n = 0; n < 2; n++) {
                // The bootstrap buckets were full when redeeming began: 30, plus what refilled meanwhile.
                assertTrue(sessions[n] >= BURST, "node " + (n + 1) + " opened only " + sessions[n]);
                assertTrue(sessions[n] <= BURST + REFILL_PER_SECOND * redeemSeconds + 1, "node " + (n + 1) + " opened "
                        + sessions[n] + " sessions in " + redeemSeconds + " s");
                // The other user's sessions work on both nodes.
                for (Container.Running node : nodes) {
                    HttpResponse<String> page = new Browser(node).getPath("/__ide/a/page", otherCookies[n]);
                    assertEquals(200, page.statusCode(), page.body());
                }
            }
            // The other user mints again on both nodes, the flooder's buckets still empty.
            mintedLink(other.get(0).mint("a", otherBearer));
            mintedLink(other.get(1).mint("a", otherBearer));

            // 3. Redis holds one used-link key per session opened (the flooder's and the other user's
            //    two), none for a refused mint or bootstrap, each expiring with its link (60 s): bounded
            //    by the limits, about 2 nodes x 30 for one burst and never more than 2 x (30 + 30) per
            //    link lifetime.
            List<String> used = usedKeys(redis);
            int flooderSessions = sessions[0] + sessions[1];
            assertEquals(flooderSessions + 2, used.size(), "used-link keys: " + used.size());
            assertTrue(flooderSessions <= 2 * (BURST + BURST), "the flooder holds " + flooderSessions + " used links");
            for (String key : used) {
                long ttl = redis.admin().pttl(key);
                assertTrue(ttl > 0 && ttl <= 60_000, key + " expires in " + ttl + " ms");
            }
            System.out.printf("flood: minted %d + %d (refused %d + %d) in %.1f s; sessions %d + %d in %.1f s;"
                            + " %d used-link keys%n", minted[0], minted[1], mintRefused[0], mintRefused[1], mintSeconds,
                    sessions[0], sessions[1], redeemSeconds, used.size());
        }
    }

    private static IdeProxy proxy(RedisStores stores, Upstream upstream) {
        // Only what a fleet needs; the limits are the library's defaults.
        return IdeProxy.builder(IdeProxyConfig.builder()
                        .set(ConfigOption.TOKEN_SECRET, Portal.PROXY_SECRET)
                        .set(ConfigOption.AUTH_JWT_HS256_SECRET, Portal.BEARER_SECRET)
                        .set(ConfigOption.TARGETS, "a=" + upstream.uri())
                        .build())
                .replayStore(stores.replayStore())
                .revocationStore(stores.revocationStore())
                .build();
    }

    private static String mintedLink(HttpResponse<String> minted) throws Exception {
        assertEquals(200, minted.statusCode(), "the other user's mint: " + minted.body());
        return JSON.readTree(minted.body()).get("bootstrapUrl").asText();
    }

    private static void assertRetryAfter(HttpResponse<String> refused) {
        String retryAfter = refused.headers().firstValue("Retry-After").orElse(null);
        assertTrue(retryAfter != null && retryAfter.matches("\\d+"), "Retry-After: " + retryAfter);
        long value = Long.parseLong(retryAfter);
        assertTrue(value >= 1 && value <= 60, "Retry-After: " + value);
    }

    private static List<String> usedKeys(RedisServer redis) {
        List<String> keys = new ArrayList<>();
        ScanCursor cursor = ScanCursor.INITIAL;
        do {
            KeyScanCursor<String> page = redis.admin().scan(cursor, ScanArgs.Builder.matches("ide-proxy:used:*").limit(500));
            keys.addAll(page.getKeys());
            cursor = page;
        } while (!cursor.isFinished());
        return keys;
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}

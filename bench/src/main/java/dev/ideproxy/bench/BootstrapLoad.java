package dev.ideproxy.bench;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bootstrap scenario of {@code bench/run redis}: what a portal and its users' browsers do when IDEs
 * are opened. A mint is {@code POST /api/dev/{id}/ide-token} with the bench's bearer JWT (HS256,
 * {@link ProxyLauncher#BEARER_SECRET}); a bootstrap is the GET of the link it returns, which must answer
 * 303 with a session cookie. Every worker has its own HTTP/1.1 keep-alive connection. Prints:
 * <ul>
 *   <li>{@code pairs_per_s}: mint + bootstrap pairs per second, WORKERS workers looping for SECONDS;</li>
 *   <li>{@code mint_per_s}, {@code boot_per_s}: the same workers first minting a batch of links (for at most
 *       3 s), then redeeming the whole batch: each endpoint's own rate;</li>
 *   <li>{@code mint_p50_us}, {@code mint_p99_us}, {@code boot_p50_us}, {@code boot_p99_us}: each request's
 *       time on one connection with nothing else in flight, for SECONDS / 2.</li>
 * </ul>
 * A warm-up loop of SECONDS / 2 comes first, unmeasured. Usage:
 * {@code BenchClient bootstrap ORIGIN WORKSPACE SECONDS WORKERS}, ORIGIN e.g. {@code http://127.0.0.1:18083}.
 */
final class BootstrapLoad {
    private static final Pattern URL = Pattern.compile("\"bootstrapUrl\"\\s*:\\s*\"([^\"]+)\"");
    /** Most links minted in the batch phase: redeemed well within the tokens' 60 s. */
    private static final int BATCH_MAX = 30_000;

    private final String origin;
    private final String workspace;
    private final String bearer;

    BootstrapLoad(String origin, String workspace) {
        this.origin = origin;
        this.workspace = workspace;
        this.bearer = "Bearer " + JWT.create()
                .withSubject("bench-user")
                .withClaim("workspaces", List.of(workspace))
                .withExpiresAt(Instant.now().plus(Duration.ofHours(1)))
                .sign(Algorithm.HMAC256(ProxyLauncher.BEARER_SECRET));
    }

    static void run(String origin, String workspace, int seconds, int workers) throws Exception {
        BootstrapLoad load = new BootstrapLoad(origin, workspace);
        load.loop(workers, seconds / 2.0, null, null); // warm-up
        long pairs = load.loop(workers, seconds, null, null);
        BenchClient.out("pairs_per_s", BenchClient.fmt(pairs / (double) seconds));
        load.batch(workers);
        long[] mint = new long[1 << 20];
        long[] boot = new long[1 << 20];
        int n = (int) load.loop(1, seconds / 2.0, mint, boot);
        long[] m = java.util.Arrays.copyOf(mint, n);
        long[] b = java.util.Arrays.copyOf(boot, n);
        java.util.Arrays.sort(m);
        java.util.Arrays.sort(b);
        BenchClient.out("mint_p50_us", BenchClient.fmt(m[n / 2] / 1e3));
        BenchClient.out("mint_p99_us", BenchClient.fmt(m[(int) (n * 0.99)] / 1e3));
        BenchClient.out("boot_p50_us", BenchClient.fmt(b[n / 2] / 1e3));
        BenchClient.out("boot_p99_us", BenchClient.fmt(b[(int) (n * 0.99)] / 1e3));
        BenchClient.out("latency_samples", n);
    }

    /** One connection per worker: a client of its own, HTTP/1.1, no redirects followed, no cookies kept. */
    private static HttpClient client() {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(10))
                .build();
    }

    private String mint(HttpClient http) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(origin + "/api/dev/" + workspace + "/ide-token"))
                .header("Authorization", bearer)
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = URL.matcher(r.body());
        if (r.statusCode() != 200 || !m.find()) {
            throw new IOException("mint answered " + r.statusCode() + ": " + r.body());
        }
        return m.group(1);
    }

    private void bootstrap(HttpClient http, String link) throws IOException, InterruptedException {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(origin + link))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() != 303 || r.headers().firstValue("Set-Cookie").isEmpty()) {
            throw new IOException("bootstrap answered " + r.statusCode());
        }
    }

    /**
     * Mint + bootstrap pairs for {@code seconds} on {@code workers} workers; with {@code mintNanos} (one
     * worker only), each request's time is kept. Returns the number of pairs.
     */
    private long loop(int workers, double seconds, long[] mintNanos, long[] bootNanos) throws Exception {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        AtomicLong pairs = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                running.add(pool.submit(() -> {
                    HttpClient http = client();
                    while (System.nanoTime() < end) {
                        long t0 = System.nanoTime();
                        String link = mint(http);
                        long t1 = System.nanoTime();
                        bootstrap(http, link);
                        long t2 = System.nanoTime();
                        long i = pairs.getAndIncrement();
                        if (mintNanos != null && i < mintNanos.length) {
                            mintNanos[(int) i] = t1 - t0;
                            bootNanos[(int) i] = t2 - t1;
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        return Math.min(pairs.get(), mintNanos == null ? Long.MAX_VALUE : mintNanos.length);
    }

    /** Mints a batch (at most 3 s), then redeems all of it: each endpoint's rate on its own. */
    private void batch(int workers) throws Exception {
        ConcurrentLinkedQueue<String> links = new ConcurrentLinkedQueue<>();
        AtomicLong minted = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        try {
            long mintEnd = System.nanoTime() + 3_000_000_000L;
            long start = System.nanoTime();
            List<Future<?>> running = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                running.add(pool.submit(() -> {
                    HttpClient http = client();
                    while (System.nanoTime() < mintEnd && minted.incrementAndGet() <= BATCH_MAX) {
                        links.add(mint(http));
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
            long mintNanos = System.nanoTime() - start;
            int count = links.size();
            running.clear();
            start = System.nanoTime();
            for (int w = 0; w < workers; w++) {
                running.add(pool.submit(() -> {
                    HttpClient http = client();
                    for (String link; (link = links.poll()) != null; ) {
                        bootstrap(http, link);
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
            long bootNanos = System.nanoTime() - start;
            BenchClient.out("mint_per_s", BenchClient.fmt(count / (mintNanos / 1e9)));
            BenchClient.out("boot_per_s", BenchClient.fmt(count / (bootNanos / 1e9)));
        } finally {
            pool.shutdownNow();
        }
    }
}

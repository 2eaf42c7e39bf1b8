package dev.ideproxy.internal.token;

import dev.ideproxy.token.InMemoryReplayStore;
import dev.ideproxy.token.InMemoryRevocationStore;
import dev.ideproxy.token.ReplayStore;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import dev.ideproxy.token.RevocationStore;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.auth0.jwt.algorithms.Algorithm;
import dev.ideproxy.testing.Keys;
import dev.ideproxy.testing.MutableClock;
import dev.ideproxy.internal.token.TokenRejectedException.Reason;
import dev.ideproxy.internal.token.TokenService.Minted;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Keys by kid, rotation, algorithms, single use and session lifetimes, without a container. */
class TokenServiceTest {
    static final byte[] OLD = "old-secret-0123456789abcdef0123456789".getBytes(UTF_8);
    static final byte[] NEW = "new-secret-0123456789abcdef0123456789".getBytes(UTF_8);
    final Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
    final MutableClock clock = new MutableClock(t0);

    TokenService service(TokenKeys keys) {
        return new TokenService(keys, Duration.ofSeconds(60), Duration.ofHours(1), Duration.ofHours(3),
                new InMemoryReplayStore(100, clock), clock);
    }

    TokenService hs(byte[] secret, String kid) {
        return service(TokenKeys.of(TokenKeys.hs256(kid, secret), List.of()));
    }

    static Reason reason(TokenService s, TokenType type, String ws, String token) {
        return assertThrows(TokenRejectedException.class, () -> s.verify(type, ws, token)).reason();
    }

    @Test
    void tokensCarryTheActiveKeyId() {
        String token = hs(NEW, "k2").mint(TokenType.BOOTSTRAP, "a", "alice").token();
        assertEquals("k2", JWT.decode(token).getKeyId());
        assertEquals("HS256", JWT.decode(token).getAlgorithm());
    }

    @Test
    void oldKeyVerifiesDuringOverlapAndFailsAfterItsRemoval() throws Exception {
        TokenService before = hs(OLD, "k1");
        String oldBootstrap = before.mint(TokenType.BOOTSTRAP, "a", "alice").token();
        String oldSession = before.mint(TokenType.SESSION, "a", "alice").token();

        TokenService overlap = service(TokenKeys.of(TokenKeys.hs256("k2", NEW), List.of(TokenKeys.hs256("k1", OLD))));
        assertEquals("alice", overlap.verify(TokenType.BOOTSTRAP, "a", oldBootstrap).user());
        assertEquals("alice", overlap.verify(TokenType.SESSION, "a", oldSession).user());
        String fresh = overlap.mint(TokenType.SESSION, "a", "alice").token();
        assertEquals("k2", JWT.decode(fresh).getKeyId(), "new tokens are signed by the active key only");

        TokenService after = hs(NEW, "k2");
        assertEquals(Reason.UNKNOWN_KEY, reason(after, TokenType.BOOTSTRAP, "a", oldBootstrap));
        assertEquals(Reason.UNKNOWN_KEY, reason(after, TokenType.SESSION, "a", oldSession));
        assertEquals("alice", after.verify(TokenType.SESSION, "a", fresh).user());
    }

    @Test
    void unknownOrMissingKidFails() {
        TokenService s = hs(NEW, "k2");
        String token = s.mint(TokenType.BOOTSTRAP, "a", "alice").token();
        String header = Keys.header(token);
        assertEquals(Reason.UNKNOWN_KEY, reason(s, TokenType.BOOTSTRAP, "a",
                Keys.withHeader(token, header.replace("\"k2\"", "\"k9\""))));
        assertEquals(Reason.UNKNOWN_KEY, reason(s, TokenType.BOOTSTRAP, "a",
                Keys.withHeader(token, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}")));
        // The same secret under another kid: a token signed without any kid is still refused.
        String noKid = JWT.create().withIssuer("ide-proxy").withAudience("a").withSubject("alice")
                .withClaim("typ", "ide-bootstrap").withJWTId("x").withExpiresAt(t0.plusSeconds(30))
                .sign(Algorithm.HMAC256(NEW));
        assertEquals(Reason.UNKNOWN_KEY, reason(s, TokenType.BOOTSTRAP, "a", noKid));
    }

    @Test
    void algNoneIsRefusedWhateverTheKid() {
        TokenService s = hs(NEW, "k1");
        String token = s.mint(TokenType.BOOTSTRAP, "a", "alice").token();
        String payload = Keys.payload(token);
        for (String alg : List.of("none", "None", "NONE")) {
            String forged = Keys.forge("{\"alg\":\"" + alg + "\",\"typ\":\"JWT\",\"kid\":\"k1\"}", payload, "");
            assertEquals(Reason.BAD_SIGNATURE, reason(s, TokenType.BOOTSTRAP, "a", forged), alg);
            String keptSignature = Keys.withHeader(token, "{\"alg\":\"" + alg + "\",\"typ\":\"JWT\",\"kid\":\"k1\"}");
            assertEquals(Reason.BAD_SIGNATURE, reason(s, TokenType.BOOTSTRAP, "a", keptSignature), alg);
        }
        assertEquals(Reason.UNKNOWN_KEY, reason(s, TokenType.BOOTSTRAP, "a",
                Keys.forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, "")));
    }

    @Test
    void rs256RoundTripAndRetirement() throws Exception {
        KeyPair rsa = Keys.rsa(2048);
        TokenService s = service(TokenKeys.of(TokenKeys.asymmetric("r1", rsa.getPublic(), rsa.getPrivate()), List.of()));
        String token = s.mint(TokenType.SESSION, "a", "alice").token();
        assertEquals("RS256", JWT.decode(token).getAlgorithm());
        assertEquals("alice", s.verify(TokenType.SESSION, "a", token).user());
        // A node that only holds the public key verifies too.
        TokenService verifier = service(TokenKeys.of(TokenKeys.hs256("k2", NEW),
                List.of(TokenKeys.asymmetric("r1", rsa.getPublic(), null))));
        assertEquals("alice", verifier.verify(TokenType.SESSION, "a", token).user());
    }

    @Test
    void es256RoundTrip() throws Exception {
        KeyPair ec = Keys.ec("secp256r1");
        TokenService s = service(TokenKeys.of(TokenKeys.asymmetric("e1", ec.getPublic(), ec.getPrivate()), List.of()));
        String token = s.mint(TokenType.BOOTSTRAP, "a", "alice").token();
        assertEquals("ES256", JWT.decode(token).getAlgorithm());
        assertEquals("alice", s.verify(TokenType.BOOTSTRAP, "a", token).user());
        String tampered = Keys.withPayload(token, Keys.payload(token).replace("alice", "mallo"));
        assertEquals(Reason.BAD_SIGNATURE, reason(s, TokenType.BOOTSTRAP, "a", tampered));
    }

    @Test
    void algorithmConfusionIsRefused() throws Exception {
        // The classic attack: HS256 signed with the RSA public key's bytes, presented under the RSA kid.
        KeyPair rsa = Keys.rsa(2048);
        TokenService s = service(TokenKeys.of(TokenKeys.asymmetric("r1", rsa.getPublic(), rsa.getPrivate()), List.of()));
        String forged = JWT.create().withKeyId("r1").withIssuer("ide-proxy").withAudience("a").withSubject("eve")
                .withClaim("typ", "ide-bootstrap").withJWTId("j").withExpiresAt(t0.plusSeconds(30))
                .sign(Algorithm.HMAC256(Keys.pem(rsa.getPublic()).getBytes(UTF_8)));
        assertEquals(Reason.BAD_SIGNATURE, reason(s, TokenType.BOOTSTRAP, "a", forged));
        // And an RS256 header on an HS256 kid.
        TokenService h = hs(NEW, "k1");
        String token = h.mint(TokenType.BOOTSTRAP, "a", "alice").token();
        assertEquals(Reason.BAD_SIGNATURE, reason(h, TokenType.BOOTSTRAP, "a",
                Keys.withHeader(token, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}")));
    }

    @Test
    void weakSecretsAndBadKeysAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> TokenKeys.hs256("k", new byte[31]));
        KeyPair a = Keys.rsa(2048);
        KeyPair b = Keys.rsa(2048);
        IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
                () -> TokenKeys.asymmetric("r", a.getPublic(), b.getPrivate()));
        assertTrue(mismatch.getMessage().contains("does not match"), mismatch.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TokenKeys.of(TokenKeys.hs256("k", NEW),
                List.of(TokenKeys.hs256("k", OLD))), "duplicate kid");
        assertThrows(IllegalArgumentException.class, () -> TokenKeys.of(
                TokenKeys.asymmetric("r", a.getPublic(), null), List.of()), "a verify-only key cannot be active");
        assertThrows(IllegalArgumentException.class, () -> TokenKeys.hs256("bad kid", NEW));
    }

    @Test
    void redeemIsSingleUse() throws Exception {
        TokenService s = hs(NEW, "k1");
        String token = s.mint(TokenType.BOOTSTRAP, "a", "alice").token();
        assertEquals("alice", s.redeem("a", token).user());
        TokenRejectedException again = assertThrows(TokenRejectedException.class, () -> s.redeem("a", token));
        assertEquals(Reason.ALREADY_USED, again.reason());
        assertEquals("this link has already been used", again.getMessage());
    }

    @Test
    void redeemRaceHasExactlyOneWinner() throws Exception {
        TokenService s = hs(NEW, "k1");
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            for (int round = 0; round < 100; round++) {
                String token = s.mint(TokenType.BOOTSTRAP, "a", "alice").token();
                CyclicBarrier start = new CyclicBarrier(8);
                List<Future<Boolean>> results = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    results.add(pool.submit(() -> {
                        start.await(5, TimeUnit.SECONDS);
                        try {
                            s.redeem("a", token);
                            return true;
                        } catch (TokenRejectedException e) {
                            assertEquals(Reason.ALREADY_USED, e.reason());
                            return false;
                        }
                    }));
                }
                int wins = 0;
                for (Future<Boolean> f : results) {
                    wins += f.get(10, TimeUnit.SECONDS) ? 1 : 0;
                }
                assertEquals(1, wins, "round " + round);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFailingStoreFailsClosed() {
        TokenService s = new TokenService(TokenKeys.of(TokenKeys.hs256("k1", NEW), List.of()), Duration.ofSeconds(60),
                Duration.ofHours(1), Duration.ofHours(3), (id, exp) -> {
                    throw new IllegalStateException("redis down");
                }, clock);
        String token = s.mint(TokenType.BOOTSTRAP, "a", "alice").token();
        assertThrows(ReplayStoreUnavailableException.class, () -> s.redeem("a", token));
    }

    @Test
    void sessionIsRenewedOnceHalfItsIdleLifetimeHasPassedUpToItsMaximum() throws Exception {
        TokenService s = hs(NEW, "k1");
        Minted first = s.mint(TokenType.SESSION, "a", "alice");
        assertEquals(t0.plus(Duration.ofHours(1)), first.expiresAt());
        VerifiedToken v = s.verify(TokenType.SESSION, "a", first.token());
        assertEquals(t0, v.sessionStart());

        clock.advance(Duration.ofMinutes(29));
        assertTrue(s.renewal(v).isEmpty(), "more than half is left");
        clock.advance(Duration.ofMinutes(2));
        Minted second = s.renewal(v).orElseThrow();
        assertEquals(t0.plus(Duration.ofMinutes(91)), second.expiresAt());
        VerifiedToken v2 = s.verify(TokenType.SESSION, "a", second.token());
        assertEquals(t0, v2.sessionStart(), "the session start is kept");
        assertEquals("alice", v2.user());

        // Keep renewing every 40 minutes: the expiry never passes start + 3h.
        String currentToken = second.token();
        VerifiedToken current = v2;
        for (int minutes : new int[] {71, 111, 151}) {
            clock.set(t0.plus(Duration.ofMinutes(minutes)));
            currentToken = s.renewal(current).orElseThrow().token();
            current = s.verify(TokenType.SESSION, "a", currentToken);
        }
        assertEquals(t0.plus(Duration.ofHours(3)), current.expiresAt(), "capped at the maximum lifetime");
        clock.set(t0.plus(Duration.ofMinutes(170)));
        assertTrue(s.renewal(current).isEmpty(), "nothing left to extend");
        clock.set(t0.plus(Duration.ofHours(3)));
        assertEquals(Reason.EXPIRED, reason(s, TokenType.SESSION, "a", currentToken));
    }

    @Test
    void sessionBeyondItsMaximumLifetimeIsRefusedEvenWithAValidExpiry() throws Exception {
        // Signed by a service with a long maximum, verified by one with a short maximum (configuration lowered).
        TokenService longMax = new TokenService(TokenKeys.of(TokenKeys.hs256("k1", NEW), List.of()),
                Duration.ofSeconds(60), Duration.ofHours(8), Duration.ofHours(24), new InMemoryReplayStore(10, clock), clock);
        String token = longMax.mint(TokenType.SESSION, "a", "alice").token();
        TokenService shortMax = new TokenService(TokenKeys.of(TokenKeys.hs256("k1", NEW), List.of()),
                Duration.ofSeconds(60), Duration.ofHours(8), Duration.ofHours(2), new InMemoryReplayStore(10, clock), clock);
        clock.advance(Duration.ofHours(2));
        assertEquals(Reason.SESSION_ENDED, reason(shortMax, TokenType.SESSION, "a", token));
        assertEquals("alice", longMax.verify(TokenType.SESSION, "a", token).user());
    }

    @Test
    void sessionTokenWithoutSessionStartIsRefused() {
        String token = JWT.create().withKeyId("k1").withIssuer("ide-proxy").withAudience("a").withSubject("alice")
                .withClaim("typ", "ide-session").withJWTId("j").withExpiresAt(t0.plusSeconds(600))
                .sign(Algorithm.HMAC256(NEW));
        assertEquals(Reason.MALFORMED, reason(hs(NEW, "k1"), TokenType.SESSION, "a", token));
    }

    @Test
    void oversizedAndGarbageTokensAreMalformed() {
        TokenService s = hs(NEW, "k1");
        assertEquals(Reason.MALFORMED, reason(s, TokenType.BOOTSTRAP, "a", "a".repeat(TokenService.MAX_TOKEN_CHARS + 1)));
        assertEquals(Reason.MALFORMED, reason(s, TokenType.BOOTSTRAP, "a", "not-a-jwt"));
        assertEquals(Reason.MISSING, reason(s, TokenType.BOOTSTRAP, "a", ""));
        assertEquals(Reason.MISSING, reason(s, TokenType.BOOTSTRAP, "a", null));
    }

    @Test
    void minted_toStringHidesTheToken() {
        Minted m = hs(NEW, "k1").mint(TokenType.SESSION, "a", "alice");
        assertFalse(m.toString().contains(m.token()));
        assertFalse(TokenKeys.of(TokenKeys.hs256("k1", NEW), List.of()).toString().contains(new String(NEW, UTF_8)));
    }

    @Test
    void aRevokedSessionIsRefusedEvenWhenRecentlyVerified() throws Exception {
        TokenService s = hs(NEW, "k1");
        String alice = s.mint(TokenType.SESSION, "a", "alice").token();
        String bob = s.mint(TokenType.SESSION, "a", "bob").token();
        s.verify(TokenType.SESSION, "a", alice); // now in the verified-token cache
        clock.advance(Duration.ofMillis(300));
        s.revoke("a", "alice");
        assertEquals(Reason.REVOKED, reason(s, TokenType.SESSION, "a", alice));
        assertEquals("bob", s.verify(TokenType.SESSION, "a", bob).user());
    }

    @Test
    void aSessionBegunInTheSecondOfTheRevocationIsRefusedOneBegunLaterIsNot() throws Exception {
        TokenService s = hs(NEW, "k1");
        clock.set(t0.plusMillis(200));
        s.revoke("a", null);
        clock.set(t0.plusMillis(700));
        String sameSecond = s.mint(TokenType.SESSION, "a", "alice").token();
        assertEquals(Reason.REVOKED, reason(s, TokenType.SESSION, "a", sameSecond),
                "session starts are kept to the second: refused rather than risk a session from before");
        clock.set(t0.plusSeconds(1));
        String later = s.mint(TokenType.SESSION, "a", "alice").token();
        assertEquals("alice", s.verify(TokenType.SESSION, "a", later).user());
    }

    @Test
    void aRevocationStoreThatFailsRefusesTheSession() throws Exception {
        RevocationStore broken = new RevocationStore() {
            @Override
            public void revoke(String workspaceId, String user, Instant at, Instant forgetAfter) {
            }

            @Override
            public Instant revokedAt(String workspaceId, String user) {
                throw new IllegalStateException("backend unreachable");
            }
        };
        TokenService s = new TokenService(TokenKeys.of(TokenKeys.hs256("k1", NEW), List.of()), Duration.ofSeconds(60),
                Duration.ofHours(1), Duration.ofHours(3), new InMemoryReplayStore(10, clock), broken, clock);
        String token = s.mint(TokenType.SESSION, "a", "alice").token();
        assertEquals(Reason.REVOCATION_UNKNOWN, reason(s, TokenType.SESSION, "a", token));
        assertEquals(Reason.REVOCATION_UNKNOWN, reason(s, TokenType.SESSION, "a", token), "on a cache hit too");
    }
}

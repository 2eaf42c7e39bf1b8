package dev.ideproxy.internal.token;

import dev.ideproxy.token.InMemoryReplayStore;
import dev.ideproxy.token.InMemoryRevocationStore;
import dev.ideproxy.token.ReplayStore;
import dev.ideproxy.token.ReplayStoreUnavailableException;
import dev.ideproxy.token.RevocationStore;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.testing.MutableClock;
import dev.ideproxy.internal.token.TokenRejectedException.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A session token verified once is remembered, so the requests of a live session skip decoding and
 * the HMAC: the remembered answer must never outlive what a full verification would accept.
 */
class VerifiedSessionCacheTest {
    static final byte[] SECRET = "cache-secret-0123456789abcdef0123456789".getBytes(UTF_8);
    final Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
    final MutableClock clock = new MutableClock(t0);
    final TokenService service = new TokenService(TokenKeys.of(TokenKeys.hs256("k1", SECRET), List.of()),
            Duration.ofSeconds(60), Duration.ofHours(1), Duration.ofHours(3), new InMemoryReplayStore(100, clock), clock);

    static Reason reason(TokenService s, TokenType type, String ws, String token) {
        return assertThrows(TokenRejectedException.class, () -> s.verify(type, ws, token)).reason();
    }

    @Test
    void aRememberedSessionGivesTheSameAnswer() throws Exception {
        String token = service.mint(TokenType.SESSION, "a", "alice").token();
        VerifiedToken first = service.verify(TokenType.SESSION, "a", token);
        VerifiedToken second = service.verify(TokenType.SESSION, "a", token);
        assertEquals(first, second);
        assertEquals("alice", second.user());
    }

    @Test
    void aRememberedSessionStillExpires() throws Exception {
        String token = service.mint(TokenType.SESSION, "a", "alice").token();
        service.verify(TokenType.SESSION, "a", token);
        clock.advance(Duration.ofHours(1).plusSeconds(1));
        assertEquals(Reason.EXPIRED, reason(service, TokenType.SESSION, "a", token));
    }

    @Test
    void aRememberedSessionEndsAtItsMaximumLifetime() throws Exception {
        String token = service.mint(TokenType.SESSION, "a", "alice").token();
        service.verify(TokenType.SESSION, "a", token);
        // Renewed twice, the session's tokens live on; the first one expired long ago, the last one
        // must still stop at the maximum lifetime of three hours.
        clock.advance(Duration.ofMinutes(50));
        String renewed = service.renewal(service.verify(TokenType.SESSION, "a", token)).orElseThrow().token();
        clock.advance(Duration.ofMinutes(50));
        renewed = service.renewal(service.verify(TokenType.SESSION, "a", renewed)).orElseThrow().token();
        clock.advance(Duration.ofMinutes(50));
        renewed = service.renewal(service.verify(TokenType.SESSION, "a", renewed)).orElseThrow().token();
        service.verify(TokenType.SESSION, "a", renewed);
        clock.set(t0.plus(Duration.ofHours(3)));
        // The last token's expiry is capped at the session's end, so either reason is the right refusal.
        Reason refused = reason(service, TokenType.SESSION, "a", renewed);
        assertTrue(refused == Reason.SESSION_ENDED || refused == Reason.EXPIRED, refused.toString());
    }

    @Test
    void aRememberedSessionIsOnlyForItsWorkspaceAndType() throws Exception {
        String token = service.mint(TokenType.SESSION, "a", "alice").token();
        service.verify(TokenType.SESSION, "a", token);
        assertEquals(Reason.WRONG_WORKSPACE, reason(service, TokenType.SESSION, "b", token));
        assertEquals(Reason.WRONG_TYPE, reason(service, TokenType.BOOTSTRAP, "a", token));
    }

    @Test
    void aTamperedCopyOfARememberedTokenIsStillRefused() throws Exception {
        String token = service.mint(TokenType.SESSION, "a", "alice").token();
        service.verify(TokenType.SESSION, "a", token);
        String tampered = token.substring(0, token.length() - 2) + (token.endsWith("AA") ? "BB" : "AA");
        assertEquals(Reason.BAD_SIGNATURE, reason(service, TokenType.SESSION, "a", tampered));
    }

    @Test
    void theMemoryIsBounded() throws Exception {
        for (int i = 0; i < TokenService.VERIFIED_SESSIONS_CAPACITY + 10; i++) {
            String token = service.mint(TokenType.SESSION, "a", "user" + i).token();
            assertEquals("user" + i, service.verify(TokenType.SESSION, "a", token).user());
        }
    }
}

package dev.ideproxy.token;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.ideproxy.testing.MutableClock;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class InMemoryRevocationStoreTest {
    final Instant t0 = Instant.parse("2030-01-01T00:00:00Z");
    final MutableClock clock = new MutableClock(t0);
    final InMemoryRevocationStore store = new InMemoryRevocationStore(clock);

    @Test
    void aRevocationAppliesToItsWorkspaceAndUserOnly() {
        store.revoke("a", "alice", t0, t0.plusSeconds(60));
        assertEquals(t0, store.revokedAt("a", "alice"));
        assertNull(store.revokedAt("a", "bob"));
        assertNull(store.revokedAt("b", "alice"));
    }

    @Test
    void aWorkspaceOrAUserAloneMeansEveryUserOrEveryWorkspace() {
        store.revoke("a", null, t0, t0.plusSeconds(60));
        store.revoke(null, "carol", t0.plusSeconds(5), t0.plusSeconds(60));
        assertEquals(t0, store.revokedAt("a", "alice"));
        assertEquals(t0, store.revokedAt("a", "bob"));
        assertEquals(t0.plusSeconds(5), store.revokedAt("b", "carol"));
        assertEquals(t0.plusSeconds(5), store.revokedAt("a", "carol"), "the latest that applies");
        assertNull(store.revokedAt("b", "alice"));
    }

    @Test
    void theLaterRevocationOfTheSameSessionsWins() {
        store.revoke("a", "alice", t0.plusSeconds(10), t0.plusSeconds(60));
        store.revoke("a", "alice", t0, t0.plusSeconds(30));
        assertEquals(t0.plusSeconds(10), store.revokedAt("a", "alice"));
        clock.set(t0.plusSeconds(45));
        assertEquals(t0.plusSeconds(10), store.revokedAt("a", "alice"), "kept until the later forgetAfter");
    }

    @Test
    void forgottenOnceNoSessionItEndsCanBeValid() {
        store.revoke("a", null, t0, t0.plusSeconds(60));
        clock.set(t0.plusSeconds(60).minusMillis(1));
        assertEquals(t0, store.revokedAt("a", "alice"));
        clock.set(t0.plusSeconds(60));
        assertNull(store.revokedAt("a", "alice"));
        store.revoke("b", null, t0.plusSeconds(60), t0.plusSeconds(120));
        assertEquals(1, store.size(), "the expired entry is dropped when a new one arrives");
    }

    @Test
    void neitherWorkspaceNorUserIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> store.revoke(null, null, t0, t0.plusSeconds(60)));
    }

    @Test
    void userAndWorkspaceNamesCannotCollideWithAny() {
        store.revoke("*", "*", t0, t0.plusSeconds(60));
        assertNull(store.revokedAt("a", "*"), "a workspace literally named * is not every workspace");
        assertNull(store.revokedAt("*", "alice"));
        assertEquals(t0, store.revokedAt("*", "*"));
    }

    @Test
    void whenFullTheBusiestWorkspacesUserRevocationsMergeIntoOneForEveryUser() {
        InMemoryRevocationStore small = new InMemoryRevocationStore(clock, 3);
        small.revoke("a", "u1", t0, t0.plusSeconds(60));
        small.revoke("a", "u2", t0.plusSeconds(2), t0.plusSeconds(70));
        small.revoke("b", "v1", t0.plusSeconds(1), t0.plusSeconds(60));
        small.revoke("c", "w1", t0.plusSeconds(3), t0.plusSeconds(60)); // full: a's two merge into one
        assertEquals(3, small.size());
        assertEquals(t0.plusSeconds(2), small.revokedAt("a", "u1"), "widened to the latest, never narrowed");
        assertEquals(t0.plusSeconds(2), small.revokedAt("a", "someone-else"), "every user of a now");
        assertEquals(t0.plusSeconds(1), small.revokedAt("b", "v1"));
        assertEquals(t0.plusSeconds(3), small.revokedAt("c", "w1"));
        clock.set(t0.plusSeconds(65));
        assertEquals(t0.plusSeconds(2), small.revokedAt("a", "u1"), "kept until the latest forgetAfter");
    }

    @Test
    void whenFullAndNothingCanMergeARevocationFailsLoudly() {
        InMemoryRevocationStore small = new InMemoryRevocationStore(clock, 2);
        small.revoke("a", null, t0, t0.plusSeconds(60));
        small.revoke(null, "bob", t0, t0.plusSeconds(60));
        assertThrows(IllegalStateException.class, () -> small.revoke("c", "carol", t0, t0.plusSeconds(60)));
        assertEquals(t0, small.revokedAt("a", "x"), "nothing already recorded was lost");
        assertEquals(t0, small.revokedAt("z", "bob"));
        small.revoke("a", null, t0.plusSeconds(5), t0.plusSeconds(60));
        assertEquals(t0.plusSeconds(5), small.revokedAt("a", "x"), "an existing entry can still be updated when full");
    }
}

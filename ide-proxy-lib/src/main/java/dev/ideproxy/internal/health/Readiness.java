package dev.ideproxy.internal.health;

import dev.ideproxy.internal.web.DrainState;
import dev.ideproxy.token.ReplayStore;
import dev.ideproxy.token.RevocationStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this node should get traffic: its configuration is loaded (it is, once this exists: a bad
 * configuration stops start-up), its stores can answer ({@link ReplayStore#isAvailable()},
 * {@link RevocationStore#isAvailable()}) and it is not draining. Each check answers from memory, so
 * asking costs no round trip. Thread-safe.
 */
public final class Readiness {
    private static final Logger LOG = LoggerFactory.getLogger(Readiness.class);

    /** The answer: whether ready, and each check by name with its state ({@code ok} or what is wrong). */
    public record Answer(boolean ready, Map<String, String> checks, List<String> failed) {
    }

    private record Check(String name, BooleanSupplier ok, String failure) {
    }

    private final List<Check> checks;

    public Readiness(ReplayStore replayStore, RevocationStore revocationStore, DrainState drain) {
        this.checks = List.of(
                new Check("configuration", () -> true, "invalid"),
                new Check("replayStore", replayStore::isAvailable, "unavailable"),
                new Check("revocationStore", revocationStore::isAvailable, "unavailable"),
                new Check("draining", () -> !drain.isDraining(), "draining"));
    }

    public Answer check() {
        Map<String, String> states = new LinkedHashMap<>();
        List<String> failed = new ArrayList<>();
        for (Check check : checks) {
            boolean ok;
            try {
                ok = check.ok().getAsBoolean();
            } catch (RuntimeException e) {
                LOG.debug("readiness check {} failed: {}", check.name(), e.toString());
                ok = false;
            }
            states.put(check.name(), ok ? "ok" : check.failure());
            if (!ok) {
                failed.add(check.name());
            }
        }
        return new Answer(failed.isEmpty(), states, List.copyOf(failed));
    }
}

package dev.ideproxy.internal.token;

import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.interfaces.Verification;
import java.time.Clock;

/**
 * The one place a java-jwt verifier is given ide-proxy's clock. java-jwt's {@link Verification}
 * interface offers no clock; its implementation {@code JWTVerifier.BaseVerification} has a public
 * {@code build(Clock)} that its Javadoc reserves for tests. java-jwt 4.6 has no supported way to
 * inject a clock, and expiry must follow the injectable {@link Clock} (tests of expiry edges, a
 * clock shared with the revocation store), so this cast stays, here only. Revisit when java-jwt
 * adds a clock to {@code Verification}.
 */
public final class ClockedVerifier {
    private ClockedVerifier() {
    }

    /** {@code verification} built into a verifier whose "now" is {@code clock}'s. */
    public static JWTVerifier build(Verification verification, Clock clock) {
        return ((JWTVerifier.BaseVerification) verification).build(clock);
    }
}

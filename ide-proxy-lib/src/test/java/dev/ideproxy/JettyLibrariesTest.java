package dev.ideproxy;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JettyLibrariesTest {

    @ParameterizedTest
    @ValueSource(strings = {"12.0.29", "12.0.0", "11.0.24", "10.0.20", "9.4.57.v20241219"})
    void anOlderJettyIsRefusedWithWhatToDo(String version) {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> JettyLibraries.check(version));
        assertTrue(e.getMessage().contains("Jetty " + version + " is on the classpath"), e.getMessage());
        assertTrue(e.getMessage().contains("jetty.version"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"12.1.0", "12.1.10", "12.1.14", "12.2.0-SNAPSHOT", "13.0.0.beta1"})
    void the121LineAndLaterAreAccepted(String version) {
        assertDoesNotThrow(() -> JettyLibraries.check(version));
    }

    @Test
    void aVersionThatCannotBeReadIsNotAReasonToRefuse() {
        assertDoesNotThrow(() -> JettyLibraries.check(null));
        assertDoesNotThrow(() -> JettyLibraries.check("unknown"));
    }

    @Test
    void theJettyThisBuildRunsWithPasses() {
        assertDoesNotThrow(() -> JettyLibraries.check());
    }
}

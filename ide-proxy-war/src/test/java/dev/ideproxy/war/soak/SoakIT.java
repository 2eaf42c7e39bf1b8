package dev.ideproxy.war.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The soak's 2-minute version ({@code bench/soak} runs 30): the built WAR under a mixed load with
 * upstream restarts and revocations, sampled 12 times; nothing may keep growing ({@link SoakVerdict})
 * and the load must have worked. The report is written to {@code target/soak-report.txt}, the proxy's output to
 * {@code target/soak-proxy.log}.
 */
class SoakIT {
    @Test
    void twoMinutesOfMixedLoadLeaveNothingGrowing() throws Exception {
        Path war = Path.of(System.getProperty("ide-proxy.war", "target/ide-proxy.war"));
        Soak.Result result = new Soak(Duration.ofMinutes(2), war, Soak.DEFAULT_JAVA_OPTIONS, System.out)
                .proxyLog(Path.of("target", "soak-proxy.log")).run();
        System.out.print(result.report());
        Files.writeString(Path.of("target", "soak-report.txt"), result.report());
        assertEquals(12, result.samples().size(), result.report());
        assertTrue(result.passed(), result.report());
    }
}

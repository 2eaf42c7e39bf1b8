package dev.ideproxy.war.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ideproxy.war.soak.SoakProxy.Sample;
import dev.ideproxy.war.soak.SoakVerdict.Judgement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/** The soak's criterion on made-up series: a leak fails it, noise and a warm-up do not. */
class SoakVerdictTest {
    /** A quiet proxy: heap around 40 MiB (+-3), threads 30 (+-3), 60 fds (+-4), nothing left over. */
    static Sample quiet(int i, Random random) {
        return new Sample(i, i * 60L, 40 + random.nextDouble() * 6 - 3, 50 + random.nextDouble(), 30 + random.nextInt(7) - 3,
                60 + random.nextInt(9) - 4, random.nextInt(2), random.nextInt(3), i, 1);
    }

    static List<Sample> samples(int n, IntFunction<Sample> sample) {
        List<Sample> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            out.add(sample.apply(i));
        }
        return out;
    }

    static Judgement judgement(List<Sample> samples, String series) {
        return SoakVerdict.judge(samples).stream().filter(j -> j.series().name().equals(series)).findFirst().orElseThrow();
    }

    @Test
    void noiseAndAWarmUpPass() {
        for (int seed = 0; seed < 200; seed++) {
            Random random = new Random(seed);
            // the warm-up: a heap and thread count that climb for the first quarter, then settle
            List<Sample> samples = samples(30, i -> {
                Sample q = quiet(i, random);
                return i > 7 ? q : new Sample(i, q.seconds(), q.heapMiB() - 30 + i * 4, q.metaspaceMiB() - 10 + i,
                        q.threads() - 20 + i * 3, q.openFiles(), q.relays(), q.upstreamConnections(), i, 1);
            });
            List<Judgement> judgements = SoakVerdict.judge(samples);
            assertTrue(judgements.stream().allMatch(Judgement::passed), "seed " + seed + ": " + judgements);
        }
    }

    @Test
    void aHeapLeakOfOneMebibytePerMinuteFails() {
        Random random = new Random(1);
        List<Sample> samples = samples(30, i -> {
            Sample q = quiet(i, random);
            return new Sample(i, q.seconds(), q.heapMiB() + i, q.metaspaceMiB(), q.threads(), q.openFiles(), q.relays(),
                    q.upstreamConnections(), i, 1);
        });
        Judgement heap = judgement(samples, "heap");
        assertTrue(heap.grew(), heap.toString());
        assertFalse(heap.passed());
    }

    @Test
    void aFewThreadsDescriptorsRelaysOrConnectionsPerSampleFail() {
        Random random = new Random(2);
        List<Sample> samples = samples(12, i -> {
            Sample q = quiet(i, random);
            return new Sample(i, q.seconds(), q.heapMiB(), q.metaspaceMiB(), 30 + 3 * i, 60 + 4 * i, i / 2, i, i, 1);
        });
        for (String series : List.of("threads", "open files", "live relays", "upstream connections")) {
            assertFalse(judgement(samples, series).passed(), series);
        }
        assertTrue(judgement(samples, "heap").passed());
    }

    @Test
    void aSeriesStillClimbingAtTheEndFailsThoughItsThirdsAreClose() {
        double[] fds = {60, 61, 60, 62, 61, 60, 61, 60, 61, 60, 61, 60, 62, 66, 70, 74, 80, 86};
        Judgement j = SoakVerdict.judge(SoakVerdict.SERIES.get(3), fds);
        assertFalse(j.grew(), j.toString());
        assertTrue(j.climbing(), j.toString());
    }

    @Test
    void aClimbWithinTheSlackAndAOneOffSpikePass() {
        double[] threads = {30, 31, 30, 29, 30, 31, 30, 29, 70, 30, 31, 30, 29, 30, 31, 32, 33, 34};
        assertTrue(SoakVerdict.judge(SoakVerdict.SERIES.get(2), threads).passed());
    }

    @Test
    void tooFewSamplesAreNotJudged() {
        Random random = new Random(3);
        assertThrows(IllegalArgumentException.class, () -> SoakVerdict.judge(samples(7, i -> quiet(i, random))));
        assertEquals(6, SoakVerdict.judged(samples(8, i -> quiet(i, random))).size());
    }
}

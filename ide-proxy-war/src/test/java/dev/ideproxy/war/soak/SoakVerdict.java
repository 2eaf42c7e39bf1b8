package dev.ideproxy.war.soak;

import dev.ideproxy.war.soak.SoakProxy.Sample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * Whether a series of samples keeps growing: the soak's pass/fail criterion, stated once here and
 * in docs/performance.md ("Soak").
 *
 * <p>The first {@link #WARM_UP_FRACTION} of the samples (at least two) are warm-up (class loading,
 * JIT, pools filling up) and are not judged. The rest are cut in thirds. A series fails when
 * <ol>
 *   <li><b>it grew:</b> the median of the last third exceeds the median of the first third by more
 *   than the series' relative slack plus its absolute slack ({@code last > first * (1 + rel) + abs});
 *   or</li>
 *   <li><b>it is still climbing:</b> each of the last {@link #CLIMB} samples is higher than the one
 *   before, and together they rose by more than the absolute slack.</li>
 * </ol>
 * Medians, not means or maxima, so that one sample taken while a pool was briefly larger does not
 * decide; comparing the first and last thirds, not neighbours, so that a slow leak shows up as the
 * run gets longer. The slacks are per series ({@link #SERIES}): the noise of a quiet process, well
 * under what a leak of one object per operation would add over a run.
 */
final class SoakVerdict {
    static final double WARM_UP_FRACTION = 0.25;
    static final int CLIMB = 6;

    /** What is judged, with its slacks. */
    record Series(String name, String unit, ToDoubleFunction<Sample> value, double relative, double absolute) {
    }

    static final List<Series> SERIES = List.of(
            new Series("heap", "MiB", Sample::heapMiB, 0.10, 4),
            new Series("metaspace", "MiB", Sample::metaspaceMiB, 0.05, 2),
            new Series("threads", "", Sample::threads, 0.10, 8),
            new Series("open files", "", Sample::openFiles, 0.10, 10),
            new Series("live relays", "", Sample::relays, 0, 2),
            new Series("upstream connections", "", Sample::upstreamConnections, 0, 4));

    /** One series' judgement. */
    record Judgement(Series series, double firstMedian, double lastMedian, boolean grew, boolean climbing) {
        boolean passed() {
            return !grew && !climbing;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%-21s first third %8.1f, last third %8.1f (limit %8.1f)%s%s -> %s",
                    series.name(), firstMedian, lastMedian, limit(series, firstMedian),
                    grew ? ", grew" : "", climbing ? ", still climbing" : "", passed() ? "ok" : "FAIL");
        }
    }

    private SoakVerdict() {
    }

    /** Samples left after the warm-up; an empty list when there are too few to judge. */
    static List<Sample> judged(List<Sample> samples) {
        int warmUp = Math.max(2, (int) Math.ceil(samples.size() * WARM_UP_FRACTION));
        return samples.size() - warmUp < 6 ? List.of() : samples.subList(warmUp, samples.size());
    }

    /** Every series' judgement; throws when there are too few samples after the warm-up (six). */
    static List<Judgement> judge(List<Sample> samples) {
        List<Sample> judged = judged(samples);
        if (judged.isEmpty()) {
            throw new IllegalArgumentException("too few samples to judge: " + samples.size() + " (need 6 after the warm-up)");
        }
        List<Judgement> out = new ArrayList<>();
        for (Series series : SERIES) {
            out.add(judge(series, judged.stream().mapToDouble(series.value()).toArray()));
        }
        return out;
    }

    static Judgement judge(Series series, double[] values) {
        int third = values.length / 3;
        double first = median(Arrays.copyOfRange(values, 0, third));
        double last = median(Arrays.copyOfRange(values, values.length - third, values.length));
        boolean grew = last > limit(series, first);
        int climb = Math.min(CLIMB, values.length);
        boolean climbing = values[values.length - 1] - values[values.length - climb] > series.absolute();
        for (int i = values.length - climb + 1; i < values.length && climbing; i++) {
            climbing = values[i] > values[i - 1];
        }
        return new Judgement(series, first, last, grew, climbing);
    }

    static double limit(Series series, double firstMedian) {
        return firstMedian * (1 + series.relative()) + series.absolute();
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}

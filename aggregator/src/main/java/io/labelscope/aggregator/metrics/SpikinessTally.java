package io.labelscope.aggregator.metrics;

import com.fasterxml.jackson.annotation.JsonIgnore;

import io.labelscope.math.GenerationDynamics;
import io.labelscope.math.Moments;
import io.labelscope.math.StepShape;

import java.util.Arrays;
import java.util.Objects;

/**
 * Sums behind the generation-dynamics statistics (SPEC §5) of one cell: a step index and last/intermediate, or
 * the per-answer cell. Like {@link AlignmentTally} it is additive and subtractable, so a re-processed answer
 * replaces its old contribution instead of adding a second one.
 *
 * @param top1Histogram  10 equal bins of top-1 probability over [0, 1] (1.0 falls in the last bin)
 * @param rankings       intermediate steps with ranking figures
 * @param nextIsSecond   of those, where the second-ranked label was written next
 * @param secondNotNext  of those, where it was not ("never predicted" denominator)
 * @param neverPredicted of those, where it was the label of no later step
 * @param answers        answers counted (answer cell only)
 * @param multilabel     answers with more than one distinct valid label
 * @param twoPlus        answers whose generation sequence has ≥ 2 labels (order denominator)
 * @param alphabetical   of those, in alphabetical order
 * @param promptOrder    of those, in instruction order
 */
public record SpikinessTally(Moments top1, Moments top2, Moments entropyBits, long[] top1Histogram,
                             Moments r1Pred, Moments intermediateAtR1, Moments nextTopAtR1,
                             long rankings, long nextIsSecond, long secondNotNext, long neverPredicted,
                             long answers, long multilabel, long twoPlus, long alphabetical, long promptOrder) {

    public static final int BINS = 10;

    public static SpikinessTally empty() {
        return new SpikinessTally(Moments.EMPTY, Moments.EMPTY, Moments.EMPTY, new long[BINS], Moments.EMPTY,
                Moments.EMPTY, Moments.EMPTY, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /**
     * One step's contribution to its cell: its shape (top-1, top-2, entropy, the top-1 histogram) and, for an
     * intermediate step, its ranking figures (null for the last step, which has no next step to rank).
     */
    public static SpikinessTally ofStep(StepShape shape, GenerationDynamics.StepRanking ranking) {
        long[] histogram = new long[BINS];
        histogram[bin(shape.top1())] = 1;
        Moments top1 = Moments.of(shape.top1());
        Moments top2 = Moments.of(shape.top2());
        Moments entropyBits = Moments.of(shape.entropyBits());
        if (ranking == null) {
            return new SpikinessTally(top1, top2, entropyBits, histogram, Moments.EMPTY, Moments.EMPTY,
                    Moments.EMPTY, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        }
        Moments r1Pred = ranking.nextProbabilityAtR() == null ? Moments.EMPTY
                : Moments.of(ranking.nextProbabilityAtR());
        Boolean neverPredicted = ranking.secondNeverPredicted(); // null when the second was written next
        return new SpikinessTally(top1, top2, entropyBits, histogram, r1Pred,
                Moments.of(ranking.secondProbabilityAtNext()), Moments.of(ranking.nextTopProbability()),
                1, count(ranking.nextIsSecond()), count(neverPredicted != null),
                count(Boolean.TRUE.equals(neverPredicted)), 0, 0, 0, 0, 0);
    }

    /**
     * One answer's contribution to the answer cell: counted, whether it is multi-label, and its label order
     * (null when the generation sequence has fewer than 2 labels, so it has no order to check).
     */
    public static SpikinessTally ofAnswer(boolean multilabel, GenerationDynamics.OrderChecks order) {
        return new SpikinessTally(Moments.EMPTY, Moments.EMPTY, Moments.EMPTY, new long[BINS], Moments.EMPTY,
                Moments.EMPTY, Moments.EMPTY, 0, 0, 0, 0, 1, count(multilabel), count(order != null),
                count(order != null && order.alphabetical()), count(order != null && order.promptOrder()));
    }

    private static long count(boolean counted) {
        return counted ? 1 : 0;
    }

    /**
     * The histogram bin of a probability: floor(10·p), with p = 1 in the last bin. A value within 1e-9 below a
     * bin edge counts in the upper bin (as for thresholds, SPEC §4): a softmax of 6/10 comes out as
     * 0.5999999999999999 and belongs with 0.6.
     */
    public static int bin(double p) {
        return Math.min(BINS - 1, Math.max(0, (int) Math.floor(p * BINS + 1e-9)));
    }

    public SpikinessTally plus(SpikinessTally o) {
        return combine(o, 1);
    }

    public SpikinessTally minus(SpikinessTally o) {
        return combine(o, -1);
    }

    private SpikinessTally combine(SpikinessTally o, int sign) {
        long[] h = new long[BINS];
        for (int i = 0; i < BINS; i++) {
            h[i] = top1Histogram[i] + sign * o.top1Histogram[i];
        }
        return new SpikinessTally(add(top1, o.top1, sign), add(top2, o.top2, sign),
                add(entropyBits, o.entropyBits, sign), h, add(r1Pred, o.r1Pred, sign),
                add(intermediateAtR1, o.intermediateAtR1, sign), add(nextTopAtR1, o.nextTopAtR1, sign),
                rankings + sign * o.rankings, nextIsSecond + sign * o.nextIsSecond,
                secondNotNext + sign * o.secondNotNext, neverPredicted + sign * o.neverPredicted,
                answers + sign * o.answers, multilabel + sign * o.multilabel, twoPlus + sign * o.twoPlus,
                alphabetical + sign * o.alphabetical, promptOrder + sign * o.promptOrder);
    }

    private static Moments add(Moments a, Moments b, int sign) {
        return sign > 0 ? a.plus(b) : a.minus(b);
    }

    /** True when nothing is counted (every contribution has been subtracted again). */
    @JsonIgnore
    public boolean isEmpty() {
        return top1.count() == 0 && answers == 0 && rankings == 0;
    }

    /** Component-wise, with the histogram by content (a record's default would compare the array's identity). */
    @Override
    public boolean equals(Object other) {
        return other instanceof SpikinessTally t && top1.equals(t.top1) && top2.equals(t.top2)
                && entropyBits.equals(t.entropyBits) && Arrays.equals(top1Histogram, t.top1Histogram)
                && r1Pred.equals(t.r1Pred) && intermediateAtR1.equals(t.intermediateAtR1)
                && nextTopAtR1.equals(t.nextTopAtR1) && rankings == t.rankings && nextIsSecond == t.nextIsSecond
                && secondNotNext == t.secondNotNext && neverPredicted == t.neverPredicted && answers == t.answers
                && multilabel == t.multilabel && twoPlus == t.twoPlus && alphabetical == t.alphabetical
                && promptOrder == t.promptOrder;
    }

    @Override
    public int hashCode() {
        return 31 * Objects.hash(top1, top2, entropyBits, r1Pred, intermediateAtR1, nextTopAtR1, rankings,
                nextIsSecond, secondNotNext, neverPredicted, answers, multilabel, twoPlus, alphabetical, promptOrder)
                + Arrays.hashCode(top1Histogram);
    }

    @Override
    public String toString() {
        return "SpikinessTally[" + top1 + top2 + entropyBits + Arrays.toString(top1Histogram) + r1Pred
                + intermediateAtR1 + nextTopAtR1 + rankings + "," + nextIsSecond + "," + secondNotNext + ","
                + neverPredicted + "," + answers + "," + multilabel + "," + twoPlus + "," + alphabetical + ","
                + promptOrder + "]";
    }
}

package io.labelscope.math;

import java.util.List;

/**
 * How spiky one step distribution is (SPEC §5, paper Figs 2, 9, 10): its top two entries and its entropy.
 *
 * @param top1Index   index (labels + none) of the highest probability
 * @param top1        that probability
 * @param top2Index   index of the second-ranked entry
 * @param top2        its probability
 * @param entropyNats −Σ p ln p over labels + none
 */
public record StepShape(int top1Index, double top1, int top2Index, double top2, double entropyNats) {

    private static final double LN2 = Math.log(2);

    public double entropyBits() {
        return entropyNats / LN2;
    }

    /** Ranks a step; ties go to label order, then none, which is array order, so the first maximum wins. */
    public static StepShape of(double[] probsWithNone) {
        int first = argmax(probsWithNone, -1);
        int second = argmax(probsWithNone, first);
        double h = 0;
        for (double p : probsWithNone) {
            if (p > 0) {
                h -= p * Math.log(p);
            }
        }
        return new StepShape(first, probsWithNone[first], second, probsWithNone[second], h);
    }

    /** Index of the largest entry other than {@code skip}; the earliest index wins a tie. */
    public static int argmax(double[] values, int skip) {
        int best = -1;
        for (int i = 0; i < values.length; i++) {
            if (i != skip && (best < 0 || values[i] > values[best])) {
                best = i;
            }
        }
        return best;
    }

    public String top1Label(List<String> labels) {
        return Labels.nameAt(labels, top1Index);
    }

    public String top2Label(List<String> labels) {
        return Labels.nameAt(labels, top2Index);
    }
}

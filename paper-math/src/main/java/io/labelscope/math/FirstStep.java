package io.labelscope.math;

import java.util.Arrays;

/**
 * First-step softmax (SPEC §3): P_0(l), the usual "initial distribution". Shown for contrast: the paper finds
 * it often disagrees with the final answer.
 */
public final class FirstStep {

    private FirstStep() {
    }

    /**
     * @param firstStepProbabilities P_0 over labels + none, or {@code null} when there is no step
     * @return P_0 restricted to the labels; without a step ε everywhere (as max-over-generations)
     */
    public static double[] distribution(double[] firstStepProbabilities, int labelCount, Conventions conventions) {
        if (firstStepProbabilities == null) {
            double[] p = new double[labelCount];
            Arrays.fill(p, conventions.codeCompat() ? 1.0 / labelCount : conventions.epsMaxFloor());
            return p;
        }
        return Arrays.copyOf(firstStepProbabilities, labelCount);
    }

    /** The first step's label probabilities sorted from highest to lowest (paper Fig. 4); null without a step. */
    public static double[] sortedLabelProbabilities(double[] firstStepProbabilities, int labelCount) {
        if (firstStepProbabilities == null) {
            return null;
        }
        double[] sorted = Arrays.copyOf(firstStepProbabilities, labelCount);
        Arrays.sort(sorted);
        for (int i = 0, j = sorted.length - 1; i < j; i++, j--) {
            double t = sorted[i];
            sorted[i] = sorted[j];
            sorted[j] = t;
        }
        return sorted;
    }
}

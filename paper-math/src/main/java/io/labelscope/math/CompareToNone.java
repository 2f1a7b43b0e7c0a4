package io.labelscope.math;

import java.util.Arrays;

/**
 * Compare-to-none (SPEC §3): p_l = σ(S_l − S_none) with the raw logits of the first step, i.e. the two-way
 * softmax of l against none. Each label is judged independently, so several can pass 0.5.
 */
public final class CompareToNone {

    private CompareToNone() {
    }

    /**
     * @param firstStepLogits logits of the first step over labels + none, or {@code null} when there is no step
     * @param labelCount      |L|
     * @return p over the labels; 0.5 everywhere without a step (no evidence either way)
     */
    public static double[] distribution(double[] firstStepLogits, int labelCount) {
        double[] p = new double[labelCount];
        if (firstStepLogits == null) {
            Arrays.fill(p, 0.5);
            return p;
        }
        double none = firstStepLogits[labelCount];
        for (int i = 0; i < labelCount; i++) {
            p[i] = Logistic.sigmoid(firstStepLogits[i] - none);
        }
        return p;
    }
}

package io.labelscope.math;

import java.util.Arrays;
import java.util.List;

/**
 * Max-over-generations (SPEC §3, the paper's best zero-shot method): p_l = max_r P_r(l), floored at ε.
 *
 * <p>A label the model ranks second at a step is usually suppressed to near 0 at later steps (sequential
 * spikiness), so taking the max over all steps recovers labels that the first step alone hides.
 */
public final class MaxOverGenerations {

    private MaxOverGenerations() {
    }

    /**
     * @param stepProbabilities P_r per step, each over labels + none
     * @param labelCount        |L|
     * @return p over the labels (no none)
     */
    public static double[] distribution(List<double[]> stepProbabilities, int labelCount, Conventions conventions) {
        double[] p = new double[labelCount];
        if (stepProbabilities.isEmpty()) {
            // No step: nothing was said about any label. Paper: ε everywhere; the authors' code: uniform.
            Arrays.fill(p, conventions.codeCompat() ? 1.0 / labelCount : conventions.epsMaxFloor());
            return p;
        }
        Arrays.fill(p, conventions.epsMaxFloor());
        for (double[] step : stepProbabilities) {
            for (int i = 0; i < labelCount; i++) {
                p[i] = Math.max(p[i], step[i]);
            }
        }
        return p;
    }
}

package io.labelscope.math;

/**
 * P_r (SPEC §1): the softmax over the |L|+1 first-token logits of one label generation step.
 * Every other vocabulary entry is ignored, which is why this is not the model's full next-token distribution.
 */
public final class StepSoftmax {

    private StepSoftmax() {
    }

    /**
     * @param logitsWithNone raw logits of the labels in instruction order, then {@code none}
     * @return probabilities in the same order, summing to 1
     */
    public static double[] probabilities(double[] logitsWithNone) {
        if (logitsWithNone.length < 2) {
            throw new IllegalArgumentException("a step needs logits for at least one label and none");
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double z : logitsWithNone) {
            if (!Double.isFinite(z)) {
                throw new IllegalArgumentException("non-finite logit " + z);
            }
            max = Math.max(max, z);
        }
        // Shifting by the max keeps exp() from overflowing; the shift cancels in the ratio.
        double[] p = new double[logitsWithNone.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logitsWithNone[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }
}

package io.labelscope.math;

import java.util.List;

/**
 * Hard predictions (SPEC §3): 1−ε for a label in the final parsed answer, ε otherwise. The ε keeps NLL finite,
 * which is why its NLL is ≈ 18.42·L1 (−ln 1e-8 = 18.42).
 */
public final class HardPredictions {

    private HardPredictions() {
    }

    /**
     * @param labels      the task's labels (normalised)
     * @param finalLabels the parsed answer as generated (repeats, none and unknown strings allowed)
     */
    public static double[] distribution(List<String> labels, List<String> finalLabels, Conventions conventions) {
        List<String> valid = Labels.distinctValid(labels, finalLabels);
        double[] p = new double[labels.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = valid.contains(labels.get(i)) ? 1.0 - conventions.epsHard() : conventions.epsHard();
        }
        return p;
    }
}

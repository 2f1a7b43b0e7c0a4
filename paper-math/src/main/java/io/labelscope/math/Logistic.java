package io.labelscope.math;

/** The logistic function, written so that neither tail overflows. */
public final class Logistic {

    private Logistic() {
    }

    /** σ(x) = 1 / (1 + e^−x); for negative x the algebraically equal e^x / (1 + e^x) keeps relative accuracy. */
    public static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }
}

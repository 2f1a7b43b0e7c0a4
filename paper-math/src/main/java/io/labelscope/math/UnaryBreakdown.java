package io.labelscope.math;

/**
 * Unary breakdown (SPEC §3): one prompt per label asking whether the label is reasonable;
 * p_l = σ(z_reasonable − z_unreasonable) at the first answer token.
 */
public final class UnaryBreakdown {

    private UnaryBreakdown() {
    }

    /**
     * @param reasonableLogits   z_reasonable per label, in label order
     * @param unreasonableLogits z_unreasonable per label, in label order
     */
    public static double[] distribution(double[] reasonableLogits, double[] unreasonableLogits) {
        if (reasonableLogits.length != unreasonableLogits.length) {
            throw new IllegalArgumentException("one reasonable and one unreasonable logit per label");
        }
        double[] p = new double[reasonableLogits.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Logistic.sigmoid(reasonableLogits[i] - unreasonableLogits[i]);
        }
        return p;
    }
}

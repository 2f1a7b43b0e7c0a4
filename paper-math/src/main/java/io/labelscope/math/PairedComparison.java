package io.labelscope.math;

import org.apache.commons.math3.distribution.TDistribution;

/**
 * Paired comparison of two configurations on the same documents (docs/calibration.md §4): the mean of the
 * per-document differences d_i = a_i − b_i of a metric, with a 95 % Student t interval
 * mean ± t(0.975, n − 1) · s / √n, s the sample standard deviation (n − 1 in the denominator).
 *
 * <p>The t interval rather than a bootstrap: it is deterministic without a seed, costs nothing to update from
 * running sums, and with the hundreds to thousands of documents of a comparison the mean of the differences is
 * close to normal even when a single difference (an NLL) is skewed.
 *
 * @param documents      n, the documents both configurations scored
 * @param meanDifference mean of a − b; null without documents
 * @param low            lower end of the 95 % interval; null below 2 documents
 * @param high           upper end; null below 2 documents
 */
public record PairedComparison(int documents, Double meanDifference, Double low, Double high) {

    /** Confidence level of the interval. */
    public static final double LEVEL = 0.95;

    /**
     * @param a the metric of configuration A per document
     * @param b the metric of configuration B for the same documents, in the same order
     */
    public static PairedComparison of(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("paired comparison needs the same documents: " + a.length
                    + " values for A, " + b.length + " for B");
        }
        Moments differences = Moments.EMPTY;
        for (int i = 0; i < a.length; i++) {
            differences = differences.plus(Moments.of(a[i] - b[i]));
        }
        return of(differences);
    }

    /**
     * The comparison from the differences' running sums (count, Σd, Σd²): what a stream keeps, and what parts
     * of the documents (partitions, instances) add up exactly ({@link Moments#plus}). The sample variance is
     * (Σd² − n·d̄²)/(n − 1), clamped at 0 against rounding.
     */
    public static PairedComparison of(Moments differences) {
        long count = differences.count();
        if (count == 0) {
            return new PairedComparison(0, null, null, null);
        }
        int n = Math.toIntExact(count);
        double mean = differences.mean();
        if (n == 1) {
            return new PairedComparison(1, mean, null, null);
        }
        double ss = Math.max(0, differences.sumOfSquares() - n * mean * mean);
        double standardError = Math.sqrt(ss / (n - 1) / n);
        // null RNG: only the quantile is needed, not sampling
        double t = new TDistribution(null, n - 1).inverseCumulativeProbability(0.5 + LEVEL / 2);
        return new PairedComparison(n, mean, mean - t * standardError, mean + t * standardError);
    }
}

package io.labelscope.math;

import java.util.Arrays;

/**
 * Platt scaling p' = σ(a·logit(p) + b), fitted to soft human targets (docs/calibration.md §2).
 *
 * <p>The fit minimises the mean binary cross-entropy of the (document, label) pairs plus an L2 term that pulls
 * the map towards the identity:
 * <pre>
 *   f(a, b) = (1/N) Σ_pairs BCE(H, σ(a·x + b)) + λ·((a − 1)² + b²),   x = logit(clip(p))
 * </pre>
 * With λ &gt; 0, f is strictly convex and has one minimiser even when the data are separable (every H of a bin 0
 * or 1), and with no data it is the identity; {@link ConvexNewton} finds it from (1, 0) to a gradient below the
 * tolerance, the same deterministic way as the Bradley–Terry fit.
 *
 * <p><b>Binned sufficient statistics.</b> So that the fit's cost does not grow with the stream, pairs are kept
 * in {@link #FIT_BINS} bins of width {@link #FIT_BIN_WIDTH} over x ∈ [−{@link #LOGIT_RANGE}, {@link
 * #LOGIT_RANGE}] (x is clipped into the range; with the default clip of 1e-8, |x| ≤ 18.43 already). A bin holds
 * the count, Σx and ΣH of its pairs, and the fit treats its pairs as sitting at their mean x: exact when a bin's
 * pairs share one x, otherwise an approximation of at most half a bin width in x. Counts and sums add and
 * subtract, so a stream can remove a document's old pairs exactly as it adds new ones.
 */
public final class PlattScaling {

    /** Logit range covered by the fit bins. */
    public static final double LOGIT_RANGE = 20.0;
    /** Width of a fit bin in logit units. */
    public static final double FIT_BIN_WIDTH = 0.25;
    /** Number of fit bins: 2·LOGIT_RANGE / FIT_BIN_WIDTH. */
    public static final int FIT_BINS = (int) Math.round(2 * LOGIT_RANGE / FIT_BIN_WIDTH);

    private PlattScaling() {
    }

    /** A fitted map p' = σ(a·logit(clip(p)) + b). */
    public record PlattMap(double a, double b) {

        /** The identity's parameters (the start of the fit and the target of its L2 term). */
        public static final PlattMap IDENTITY_PARAMETERS = new PlattMap(1, 0);

        /** p' for one published probability; {@code clip} keeps logit finite at 0 and 1. */
        public double apply(double p, double clip) {
            return Logistic.sigmoid(a * logit(p, clip) + b);
        }
    }

    /**
     * Binned (x, H) pairs: per fit bin the count, Σx and ΣH. Immutable; {@link #plus}/{@link #minus} combine.
     */
    public static final class Statistics {
        public static final Statistics EMPTY = new Statistics(new long[FIT_BINS], new double[FIT_BINS],
                new double[FIT_BINS]);

        private final long[] counts;
        private final double[] sumLogit;
        private final double[] sumHuman;

        public Statistics(long[] counts, double[] sumLogit, double[] sumHuman) {
            if (counts.length != FIT_BINS || sumLogit.length != FIT_BINS || sumHuman.length != FIT_BINS) {
                throw new IllegalArgumentException("Platt statistics have " + FIT_BINS + " bins");
            }
            this.counts = counts.clone();
            this.sumLogit = sumLogit.clone();
            this.sumHuman = sumHuman.clone();
        }

        /** One pair: a published prediction p and its human share H. */
        public static Statistics ofPair(double p, double human, double clip) {
            if (!(human >= 0 && human <= 1)) {
                throw new IllegalArgumentException("a human share must be in [0,1], was " + human);
            }
            double x = Math.max(-LOGIT_RANGE, Math.min(LOGIT_RANGE, logit(p, clip)));
            int bin = Math.min(FIT_BINS - 1, (int) Math.floor((x + LOGIT_RANGE) / FIT_BIN_WIDTH));
            long[] n = new long[FIT_BINS];
            double[] sx = new double[FIT_BINS];
            double[] sh = new double[FIT_BINS];
            n[bin] = 1;
            sx[bin] = x;
            sh[bin] = human;
            return new Statistics(n, sx, sh);
        }

        public Statistics plus(Statistics o) {
            return combine(o, 1);
        }

        public Statistics minus(Statistics o) {
            return combine(o, -1);
        }

        private Statistics combine(Statistics o, int sign) {
            long[] n = counts.clone();
            double[] sx = sumLogit.clone();
            double[] sh = sumHuman.clone();
            for (int k = 0; k < FIT_BINS; k++) {
                n[k] += sign * o.counts[k];
                sx[k] += sign * o.sumLogit[k];
                sh[k] += sign * o.sumHuman[k];
            }
            return new Statistics(n, sx, sh);
        }

        public long pairs() {
            return Arrays.stream(counts).sum();
        }

        public long[] counts() {
            return counts.clone();
        }

        public double[] sumLogit() {
            return sumLogit.clone();
        }

        public double[] sumHuman() {
            return sumHuman.clone();
        }
    }

    /**
     * The minimiser of f(a, b) over the pairs in {@code s}; the identity's parameters (1, 0) without pairs.
     *
     * @param lambda            L2 weight towards the identity (&gt; 0)
     * @param gradientTolerance Newton stops once max |∇f| is below this
     */
    public static PlattMap fit(Statistics s, double lambda, double gradientTolerance) {
        if (!(lambda > 0)) {
            throw new IllegalArgumentException("the Platt L2 weight must be positive, was " + lambda);
        }
        long total = s.pairs();
        if (total == 0) {
            return PlattMap.IDENTITY_PARAMETERS;
        }
        // Only the occupied bins matter; their mean x, count and ΣH are all the fit reads.
        int occupied = 0;
        for (long c : s.counts) {
            occupied += c > 0 ? 1 : 0;
        }
        double[] x = new double[occupied];
        double[] n = new double[occupied];
        double[] sh = new double[occupied];
        for (int k = 0, j = 0; k < FIT_BINS; k++) {
            if (s.counts[k] > 0) {
                x[j] = s.sumLogit[k] / s.counts[k];
                n[j] = s.counts[k];
                sh[j] = s.sumHuman[k];
                j++;
            }
        }
        double invN = 1.0 / total;
        ConvexNewton.Objective f = new ConvexNewton.Objective() {
            @Override
            public double value(double[] ab) {
                double sum = 0;
                for (int j = 0; j < x.length; j++) {
                    double z = ab[0] * x[j] + ab[1];
                    // Σ over the bin's pairs of −[H log σ(z) + (1−H) log σ(−z)]
                    sum -= sh[j] * ConvexNewton.logSigmoid(z) + (n[j] - sh[j]) * ConvexNewton.logSigmoid(-z);
                }
                double da = ab[0] - 1;
                return sum * invN + lambda * (da * da + ab[1] * ab[1]);
            }

            @Override
            public void gradientAndHessian(double[] ab, double[] g, double[][] h) {
                g[0] = 2 * lambda * (ab[0] - 1);
                g[1] = 2 * lambda * ab[1];
                h[0][0] = 2 * lambda;
                h[1][1] = 2 * lambda;
                for (int j = 0; j < x.length; j++) {
                    double q = Logistic.sigmoid(ab[0] * x[j] + ab[1]);
                    // d/dz of the bin's loss: n·σ(z) − ΣH; second derivative n·σ(z)(1−σ(z)).
                    double r = (n[j] * q - sh[j]) * invN;
                    double w = n[j] * q * (1 - q) * invN;
                    g[0] += r * x[j];
                    g[1] += r;
                    h[0][0] += w * x[j] * x[j];
                    h[0][1] += w * x[j];
                    h[1][1] += w;
                }
                h[1][0] = h[0][1];
            }
        };
        double[] ab = ConvexNewton.minimise(f, new double[] {1, 0}, gradientTolerance);
        return new PlattMap(ab[0], ab[1]);
    }

    /** logit(p) = ln p − ln(1 − p) of p clipped to [clip, 1 − clip]. */
    public static double logit(double p, double clip) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("a prediction must be in [0,1], was " + p);
        }
        double q = Math.min(Math.max(p, clip), 1 - clip);
        return Math.log(q) - Math.log1p(-q);
    }
}

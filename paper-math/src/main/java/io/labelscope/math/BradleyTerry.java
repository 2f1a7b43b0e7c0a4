package io.labelscope.math;

import java.util.List;

/**
 * Bradley–Terry scores fitted exactly (SPEC §3, binary breakdown).
 *
 * <p>Minimises f(s) = Σ_pairs BCE(p_ab, σ(s_a − s_b)) + λ·Σ s². With λ &gt; 0 f is strictly convex, so Newton's
 * method from s = 0 has one answer and, unlike SGD as in the authors' code, gives the same scores on every
 * machine. We iterate ({@link ConvexNewton}) until the largest gradient entry is below the tolerance (1e-12 by
 * default).
 */
public final class BradleyTerry {

    /** One comparison: probability that item {@code a} beats item {@code b}. */
    public record Comparison(int a, int b, double probabilityAWins) {
        public Comparison {
            if (a == b) {
                throw new IllegalArgumentException("an item cannot be compared with itself: " + a);
            }
            if (!(probabilityAWins >= 0 && probabilityAWins <= 1)) {
                throw new IllegalArgumentException("probability must be in [0,1], was " + probabilityAWins);
            }
        }
    }

    private BradleyTerry() {
    }

    /**
     * @param itemCount   number of items (labels + none for the binary breakdown)
     * @param comparisons the observed pairwise probabilities
     * @param lambda      L2 weight (must be &gt; 0 for a unique optimum when some item never loses)
     * @param gradientTolerance stop once max |∇f| is below this
     * @return the fitted scores s
     */
    public static double[] fit(int itemCount, List<Comparison> comparisons, double lambda, double gradientTolerance) {
        ConvexNewton.Objective f = new ConvexNewton.Objective() {
            @Override
            public double value(double[] s) {
                return objective(s, comparisons, lambda);
            }

            @Override
            public void gradientAndHessian(double[] s, double[] g, double[][] h) {
                for (int i = 0; i < itemCount; i++) {
                    g[i] = 2 * lambda * s[i];
                    h[i][i] = 2 * lambda;
                }
                for (Comparison c : comparisons) {
                    double q = Logistic.sigmoid(s[c.a()] - s[c.b()]);
                    // d BCE / d(s_a − s_b) = q − p; second derivative q(1−q).
                    double r = q - c.probabilityAWins();
                    double w = q * (1 - q);
                    g[c.a()] += r;
                    g[c.b()] -= r;
                    h[c.a()][c.a()] += w;
                    h[c.b()][c.b()] += w;
                    h[c.a()][c.b()] -= w;
                    h[c.b()][c.a()] -= w;
                }
            }
        };
        return ConvexNewton.minimise(f, new double[itemCount], gradientTolerance);
    }

    /** f(s), with BCE written through log σ so that neither tail loses precision. */
    static double objective(double[] s, List<Comparison> comparisons, double lambda) {
        double f = 0;
        for (double v : s) {
            f += lambda * v * v;
        }
        for (Comparison c : comparisons) {
            double d = s[c.a()] - s[c.b()];
            double p = c.probabilityAWins();
            f += -(p * ConvexNewton.logSigmoid(d) + (1 - p) * ConvexNewton.logSigmoid(-d));
        }
        return f;
    }
}

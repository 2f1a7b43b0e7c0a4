package io.labelscope.math;

import java.util.List;

/**
 * Bradley–Terry scores fitted exactly (SPEC §3, binary breakdown).
 *
 * <p>Minimises f(s) = Σ_pairs BCE(p_ab, σ(s_a − s_b)) + λ·Σ s². With λ &gt; 0 f is strictly convex, so Newton's
 * method from s = 0 has one answer and, unlike SGD as in the authors' code, gives the same scores on every
 * machine. We iterate until the largest gradient entry is below the tolerance (1e-12 by default).
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

    private static final int MAX_ITERATIONS = 200;
    /** Newton decrement g·H⁻¹g below which the full step is taken without a line search (see fit). */
    private static final double PURE_NEWTON_DECREMENT = 1e-10;

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
        double[] s = new double[itemCount];
        double objective = objective(s, comparisons, lambda);
        for (int iter = 0; iter < MAX_ITERATIONS; iter++) {
            double[] g = new double[itemCount];
            double[][] h = new double[itemCount][itemCount];
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
            if (maxAbs(g) < gradientTolerance) {
                break;
            }
            double[] step = solve(h, g);
            if (dot(g, step) < PURE_NEWTON_DECREMENT) {
                // Near the optimum the predicted decrease (g·step / 2) falls to the objective's own float64
                // rounding, so comparing objectives can no longer accept a step; f is smooth and strictly
                // convex, so here the full Newton step converges quadratically and the gradient test ends it.
                for (int i = 0; i < itemCount; i++) {
                    s[i] -= step[i];
                }
                objective = objective(s, comparisons, lambda);
                continue;
            }
            // Far from the optimum, halving guards against an overshoot on extreme inputs and keeps the
            // iteration monotone (still deterministic).
            double t = 1.0;
            double[] candidate = new double[itemCount];
            double candidateObjective;
            int halvings = 0;
            do {
                for (int i = 0; i < itemCount; i++) {
                    candidate[i] = s[i] - t * step[i];
                }
                candidateObjective = objective(candidate, comparisons, lambda);
                t /= 2;
            } while (candidateObjective > objective && ++halvings < 40);
            if (halvings >= 40) {
                break; // no decrease representable in float64
            }
            s = candidate.clone();
            objective = candidateObjective;
        }
        return s;
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
            f += -(p * logSigmoid(d) + (1 - p) * logSigmoid(-d));
        }
        return f;
    }

    private static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    /** Solves H x = g by Gaussian elimination with partial pivoting (H is small and positive definite). */
    static double[] solve(double[][] hIn, double[] gIn) {
        int n = gIn.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = hIn[i].clone();
        }
        double[] b = gIn.clone();
        for (int col = 0; col < n; col++) {
            int pivot = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) {
                    pivot = r;
                }
            }
            double[] tr = a[col];
            a[col] = a[pivot];
            a[pivot] = tr;
            double tb = b[col];
            b[col] = b[pivot];
            b[pivot] = tb;
            for (int r = col + 1; r < n; r++) {
                double f = a[r][col] / a[col][col];
                if (f != 0) {
                    for (int k = col; k < n; k++) {
                        a[r][k] -= f * a[col][k];
                    }
                    b[r] -= f * b[col];
                }
            }
        }
        double[] x = new double[n];
        for (int i = n - 1; i >= 0; i--) {
            double sum = b[i];
            for (int k = i + 1; k < n; k++) {
                sum -= a[i][k] * x[k];
            }
            x[i] = sum / a[i][i];
        }
        return x;
    }
}

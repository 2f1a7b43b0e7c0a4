package io.labelscope.math;

/**
 * Damped Newton minimisation of a smooth, strictly convex function of a few variables — the one solver behind the
 * exact, deterministic fits of this library (the Bradley–Terry scores of the binary breakdown and the Platt maps
 * of calibration).
 *
 * <p>From the start point, each iteration computes the gradient g and Hessian H, stops once max |g| is below the
 * tolerance, and otherwise steps by H⁻¹g: in full when the Newton decrement g·H⁻¹g is tiny (near the optimum,
 * where comparing objectives is lost in float64 rounding and the full step converges quadratically), else
 * halving the step until the objective does not increase (a guard against overshoot on extreme inputs that keeps
 * the iteration monotone). No randomness and a fixed operation order, so every machine gets the same answer.
 */
public final class ConvexNewton {

    /** A strictly convex objective: its value, and its gradient and Hessian at a point. */
    public interface Objective {
        double value(double[] x);

        /** Writes ∇f(x) into {@code gradient} and ∇²f(x) into {@code hessian} (both zeroed by the caller). */
        void gradientAndHessian(double[] x, double[] gradient, double[][] hessian);
    }

    private static final int MAX_ITERATIONS = 200;
    /** Newton decrement g·H⁻¹g below which the full step is taken without a line search (see class comment). */
    private static final double PURE_NEWTON_DECREMENT = 1e-10;
    private static final int MAX_HALVINGS = 40;

    private ConvexNewton() {
    }

    /**
     * @param f                 the objective
     * @param start             the start point (not modified)
     * @param gradientTolerance stop once max |∇f| is below this
     * @return the minimiser found
     */
    public static double[] minimise(Objective f, double[] start, double gradientTolerance) {
        int n = start.length;
        double[] x = start.clone();
        double objective = f.value(x);
        for (int iter = 0; iter < MAX_ITERATIONS; iter++) {
            double[] g = new double[n];
            double[][] h = new double[n][n];
            f.gradientAndHessian(x, g, h);
            if (maxAbs(g) < gradientTolerance) {
                break;
            }
            double[] step = solve(h, g);
            if (dot(g, step) < PURE_NEWTON_DECREMENT) {
                for (int i = 0; i < n; i++) {
                    x[i] -= step[i];
                }
                objective = f.value(x);
                continue;
            }
            double t = 1.0;
            double[] candidate = new double[n];
            double candidateObjective;
            int halvings = 0;
            do {
                for (int i = 0; i < n; i++) {
                    candidate[i] = x[i] - t * step[i];
                }
                candidateObjective = f.value(candidate);
                t /= 2;
            } while (candidateObjective > objective && ++halvings < MAX_HALVINGS);
            if (halvings >= MAX_HALVINGS) {
                break; // no decrease representable in float64
            }
            x = candidate.clone();
            objective = candidateObjective;
        }
        return x;
    }

    /** log σ(x), written so that neither tail loses precision. */
    public static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }

    static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    static double maxAbs(double[] v) {
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

package io.labelscope.math;

import java.util.List;

/**
 * n, mean and population standard deviation of a finished series, computed in two passes so that a constant
 * series has std exactly 0 (the batch eval compares to 1e-9; {@link Moments} is for streams).
 */
public record Summary(int n, double mean, double std) {

    public static Summary of(List<Double> values) {
        int n = values.size();
        if (n == 0) {
            return new Summary(0, Double.NaN, Double.NaN);
        }
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        double mean = sum / n;
        double ss = 0;
        for (double v : values) {
            ss += (v - mean) * (v - mean);
        }
        return new Summary(n, mean, Math.sqrt(ss / n));
    }
}

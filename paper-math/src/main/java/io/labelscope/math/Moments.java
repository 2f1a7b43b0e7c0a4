package io.labelscope.math;

/**
 * Count, sum and sum of squares of a series, combinable by addition and subtraction.
 *
 * <p>Streaming aggregates need to remove a document's old contribution when its annotations change (no double
 * counting), which a running Welford state cannot do exactly; sums can. Population standard deviation.
 */
public record Moments(long count, double sum, double sumOfSquares) {

    public static final Moments EMPTY = new Moments(0, 0, 0);

    public static Moments of(double value) {
        return new Moments(1, value, value * value);
    }

    public Moments plus(Moments other) {
        return new Moments(count + other.count, sum + other.sum, sumOfSquares + other.sumOfSquares);
    }

    public Moments minus(Moments other) {
        return new Moments(count - other.count, sum - other.sum, sumOfSquares - other.sumOfSquares);
    }

    /** Mean, or NaN for an empty series. */
    public double mean() {
        return count == 0 ? Double.NaN : sum / count;
    }

    /** Population standard deviation, or NaN for an empty series; rounding below zero is clamped to 0. */
    public double std() {
        if (count == 0) {
            return Double.NaN;
        }
        double m = mean();
        return Math.sqrt(Math.max(0, sumOfSquares / count - m * m));
    }
}

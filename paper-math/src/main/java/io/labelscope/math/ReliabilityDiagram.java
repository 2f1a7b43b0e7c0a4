package io.labelscope.math;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The reliability diagram and soft expected calibration error of a method (docs/calibration.md §1).
 *
 * <p>Over (document, label) pairs of annotated documents, one pair per label of the task's label set ({@code none}
 * is not a label): p is the method's distribution value as published (unclipped) and H the human share. Pair
 * (p, H) falls in bin {@code min(9, floor(10·p))}, computed in float64 with no tolerance at the edges, so bin b
 * holds [b/10, (b+1)/10) and the last bin is closed at 1. Soft ECE = Σ_b (n_b/N)·|mean p_b − mean H_b|.
 *
 * <p>The diagram is a sum of per-pair counts and sums, so a stream adds a document's pairs when it is annotated and
 * subtracts its old pairs when its annotations or its distribution change ({@link #plus}, {@link #minus}), the
 * same delta accounting as {@link Moments}; an empty bin has null means.
 *
 * @param bins exactly {@link #BIN_COUNT} bins, bin b covering [b/10, (b+1)/10)
 */
public record ReliabilityDiagram(List<Bin> bins) {

    public static final int BIN_COUNT = 10;

    /** One bin: how many pairs, and the sums of their predictions and human shares. */
    public record Bin(long count, double sumPredicted, double sumHuman) {
        static final Bin EMPTY = new Bin(0, 0, 0);

        /** Mean prediction, or null for an empty bin. */
        public Double meanPredicted() {
            return count == 0 ? null : sumPredicted / count;
        }

        /** Mean human share, or null for an empty bin. */
        public Double meanHuman() {
            return count == 0 ? null : sumHuman / count;
        }

        Bin plus(Bin o) {
            return new Bin(count + o.count, sumPredicted + o.sumPredicted, sumHuman + o.sumHuman);
        }

        Bin minus(Bin o) {
            return new Bin(count - o.count, sumPredicted - o.sumPredicted, sumHuman - o.sumHuman);
        }
    }

    public static final ReliabilityDiagram EMPTY = new ReliabilityDiagram(Collections.nCopies(BIN_COUNT, Bin.EMPTY));

    public ReliabilityDiagram {
        if (bins == null || bins.size() != BIN_COUNT) {
            throw new IllegalArgumentException("a reliability diagram has " + BIN_COUNT + " bins");
        }
        bins = List.copyOf(bins);
    }

    /**
     * The bin of a prediction: {@code min(9, floor(10·p))}.
     *
     * @throws IllegalArgumentException when p is not a probability (NaN, below 0 or above 1)
     */
    public static int bin(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("a prediction must be in [0,1], was " + p);
        }
        return Math.min(BIN_COUNT - 1, (int) Math.floor(BIN_COUNT * p));
    }

    /** One (document, label) pair. */
    public static ReliabilityDiagram ofPair(double predicted, double human) {
        List<Bin> bins = new ArrayList<>(EMPTY.bins);
        bins.set(bin(predicted), new Bin(1, predicted, human));
        return new ReliabilityDiagram(bins);
    }

    /**
     * One annotated document's pairs: every label of the set (arrays over the labels, without none).
     *
     * @param predicted the method's distribution as published
     * @param human     H over the same labels
     */
    public static ReliabilityDiagram ofDocument(double[] predicted, double[] human) {
        return ofLabels(predicted, human, null);
    }

    /** One annotated document's pair of a single label (the per-label diagram). */
    public static ReliabilityDiagram ofLabel(double[] predicted, double[] human, int label) {
        return ofLabels(predicted, human, label);
    }

    private static ReliabilityDiagram ofLabels(double[] predicted, double[] human, Integer onlyLabel) {
        if (predicted.length != human.length) {
            throw new IllegalArgumentException("prediction over " + predicted.length + " labels, human over "
                    + human.length);
        }
        long[] n = new long[BIN_COUNT];
        double[] sp = new double[BIN_COUNT];
        double[] sh = new double[BIN_COUNT];
        for (int l = 0; l < predicted.length; l++) {
            if (onlyLabel != null && l != onlyLabel) {
                continue;
            }
            int b = bin(predicted[l]);
            n[b]++;
            sp[b] += predicted[l];
            sh[b] += human[l];
        }
        List<Bin> bins = new ArrayList<>(BIN_COUNT);
        for (int b = 0; b < BIN_COUNT; b++) {
            bins.add(new Bin(n[b], sp[b], sh[b]));
        }
        return new ReliabilityDiagram(bins);
    }

    public ReliabilityDiagram plus(ReliabilityDiagram o) {
        List<Bin> out = new ArrayList<>(BIN_COUNT);
        for (int b = 0; b < BIN_COUNT; b++) {
            out.add(bins.get(b).plus(o.bins.get(b)));
        }
        return new ReliabilityDiagram(out);
    }

    public ReliabilityDiagram minus(ReliabilityDiagram o) {
        List<Bin> out = new ArrayList<>(BIN_COUNT);
        for (int b = 0; b < BIN_COUNT; b++) {
            out.add(bins.get(b).minus(o.bins.get(b)));
        }
        return new ReliabilityDiagram(out);
    }

    /** N: the number of (document, label) pairs. */
    public long pairs() {
        long n = 0;
        for (Bin b : bins) {
            n += b.count;
        }
        return n;
    }

    /** Soft ECE = Σ_b (n_b/N)·|mean p_b − mean H_b| over the non-empty bins; null without pairs. */
    public Double ece() {
        long n = pairs();
        if (n == 0) {
            return null;
        }
        double ece = 0;
        for (Bin b : bins) {
            if (b.count > 0) {
                ece += (double) b.count / n * Math.abs(b.meanPredicted() - b.meanHuman());
            }
        }
        return ece;
    }
}

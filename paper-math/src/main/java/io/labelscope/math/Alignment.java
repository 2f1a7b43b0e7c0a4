package io.labelscope.math;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Alignment of a method's distribution p with the human distribution H (SPEC §4), per document.
 *
 * <p>Both NLL and L1 use p clipped to [c, 1−c]; the reported distribution stays unclipped. NLL and L1 alone
 * reward a constant distribution (paper A.6), which is why example-F1 is always reported beside them.
 */
public final class Alignment {

    /** The three per-document alignment metrics. */
    public record Scores(double nll, double l1, double exampleF1) {
    }

    private Alignment() {
    }

    /** NLL = −Σ_l [H_l ln p_l + (1−H_l) ln(1−p_l)], natural log, summed (not averaged) over labels. */
    public static double nll(double[] p, double[] human, Conventions conventions) {
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            double q = clip(p[i], conventions.nllClip());
            double h = human[i];
            sum -= h * Math.log(q) + (1 - h) * Math.log(1 - q);
        }
        return sum;
    }

    /** L1 = Σ_l |p_l − H_l| with p clipped like NLL. */
    public static double l1(double[] p, double[] human, Conventions conventions) {
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            sum += Math.abs(clip(p[i], conventions.nllClip()) - human[i]);
        }
        return sum;
    }

    /** Example-F1 = 2|Y∩Ŷ| / (|Y|+|Ŷ|); both empty gives {@link Conventions#emptyF1()}. */
    public static double exampleF1(List<String> gold, List<String> predicted, Conventions conventions) {
        Set<String> y = new HashSet<>(gold);
        Set<String> yHat = new HashSet<>(predicted);
        if (y.isEmpty() && yHat.isEmpty()) {
            return conventions.emptyF1();
        }
        int both = 0;
        for (String l : yHat) {
            if (y.contains(l)) {
                both++;
            }
        }
        return 2.0 * both / (y.size() + yHat.size());
    }

    /** Labels whose value reaches the threshold (within the tolerance), in label order. */
    public static List<String> atOrAbove(List<String> labels, double[] values, double threshold,
                                         Conventions conventions) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            if (conventions.reaches(values[i], threshold)) {
                out.add(labels.get(i));
            }
        }
        return out;
    }

    /** Ŷ: the method's predicted labels. */
    public static List<String> predicted(List<String> labels, double[] p, Conventions conventions) {
        return atOrAbove(labels, p, conventions.modelThreshold(), conventions);
    }

    /** Y by default: the labels at least half of the annotators chose. */
    public static List<String> humanMajority(List<String> labels, double[] human, Conventions conventions) {
        return atOrAbove(labels, human, conventions.humanThreshold(), conventions);
    }

    /** All three metrics against H and the gold set Y. */
    public static Scores score(double[] p, double[] human, List<String> labels, List<String> gold,
                               Conventions conventions) {
        return new Scores(nll(p, human, conventions), l1(p, human, conventions),
                exampleF1(gold, predicted(labels, p, conventions), conventions));
    }

    static double clip(double p, double c) {
        return Math.min(Math.max(p, c), 1 - c);
    }
}

package io.labelscope.math;

import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * SPEC §1 eq. 1: H_l(d) = share of the document's annotators whose label set contains l.
 *
 * <p>Every annotator is in the denominator, also one who chose no label; a label named twice by one annotator
 * is one vote. Keeping one set per annotator id (replace-on-resend) is the caller's job.
 */
public final class HumanDistribution {

    private HumanDistribution() {
    }

    /**
     * @param labels          task label set (normalised, instruction order)
     * @param annotatorLabels one label set per annotator; names outside the label set (and {@code none}) are
     *                        ignored here, callers that must reject them use {@link #unknownLabels}
     * @return H over the labels, or {@code null} when there are no annotators (H is undefined then)
     */
    public static double[] of(List<String> labels, Collection<? extends Collection<String>> annotatorLabels) {
        if (annotatorLabels == null || annotatorLabels.isEmpty()) {
            return null;
        }
        int[] votes = votes(labels, annotatorLabels);
        double n = annotatorLabels.size();
        double[] shares = new double[votes.length];
        for (int i = 0; i < votes.length; i++) {
            shares[i] = votes[i] / n;
        }
        return shares;
    }

    /**
     * Per label, how many annotators chose it (k_l, the numerator of H_l); the denominator n is the number of
     * label sets, {@code []} included. Names outside the label set are ignored as in {@link #of}.
     */
    public static int[] votes(List<String> labels, Collection<? extends Collection<String>> annotatorLabels) {
        int[] votes = new int[labels.size()];
        if (annotatorLabels == null) {
            return votes;
        }
        for (Collection<String> set : annotatorLabels) {
            Set<String> distinct = new HashSet<>();
            for (String raw : set) {
                distinct.add(Labels.normalize(raw));
            }
            for (int i = 0; i < labels.size(); i++) {
                if (distinct.contains(labels.get(i))) {
                    votes[i] += 1;
                }
            }
        }
        return votes;
    }

    /** Names in one annotation that are neither a label of the set nor {@code none}. */
    public static Set<String> unknownLabels(List<String> labels, Collection<String> annotation) {
        Set<String> unknown = new HashSet<>();
        for (String raw : annotation) {
            String l = Labels.normalize(raw);
            if (!labels.contains(l) && !Labels.NONE.equals(l)) {
                unknown.add(raw);
            }
        }
        return unknown;
    }
}

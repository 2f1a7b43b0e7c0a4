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
        double[] votes = new double[labels.size()];
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
        double n = annotatorLabels.size();
        for (int i = 0; i < votes.length; i++) {
            votes[i] /= n;
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

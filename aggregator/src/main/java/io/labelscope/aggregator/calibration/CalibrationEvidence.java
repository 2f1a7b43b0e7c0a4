package io.labelscope.aggregator.calibration;

import io.labelscope.aggregator.state.DistributionView;
import io.labelscope.aggregator.state.Emitted;
import io.labelscope.aggregator.state.MethodView;
import io.labelscope.math.Calibration;
import io.labelscope.math.Method;

import java.util.List;
import java.util.Objects;

/**
 * A run's share of its task/model's calibration evidence, and the change to it from one emission to the next
 * (docs/calibration.md §3): an annotated run contributes its max-over-generations p and human share H per label
 * (one per label always; a shared map pools them when it is fitted, so the setting can change without a reset).
 * When its annotations (or its distribution) change, its old pairs are subtracted and the new ones added.
 */
public final class CalibrationEvidence {

    private static final String MAX = Method.MAX_OVER_GENERATIONS.wireName();
    private static final String CALIBRATED = Method.CALIBRATED_MAX_OVER_GENERATIONS.wireName();

    private CalibrationEvidence() {
    }

    /**
     * The change to the task/model's evidence from the run's previous emission ({@code old}, null for its first)
     * to {@code scored}; null when there is none (not annotated before or after, or the same p and H).
     *
     * <p>An old emission without the calibrated method was written by a version before it, and sent no evidence:
     * nothing of it is subtracted.
     *
     * @param clip the NLL clip applied before the logit (the conventions')
     */
    public static Calibration.Evidence change(Emitted old, Emitted scored, double clip) {
        DistributionView before = old == null || !old.distribution().methods().containsKey(CALIBRATED) ? null
                : old.distribution();
        DistributionView after = scored.distribution();
        if (before != null && Objects.equals(before.human(), after.human())
                && Objects.equals(distribution(before), distribution(after))) {
            return null;
        }
        Calibration.Evidence removed = of(before, clip);
        Calibration.Evidence added = of(after, clip);
        if (removed == null && added == null) {
            return null;
        }
        return (added == null ? Calibration.Evidence.EMPTY : added)
                .minus(removed == null ? Calibration.Evidence.EMPTY : removed);
    }

    /** One distribution's evidence: null unless it is annotated and has max-over-generations. */
    static Calibration.Evidence of(DistributionView d, double clip) {
        if (d == null || d.human() == null || !d.methods().containsKey(MAX)) {
            return null;
        }
        List<String> labels = d.labels();
        double[] p = new double[labels.size()];
        double[] h = new double[labels.size()];
        MethodView max = d.methods().get(MAX);
        for (int l = 0; l < labels.size(); l++) {
            p[l] = max.distribution().get(labels.get(l));
            h[l] = d.human().get(labels.get(l));
        }
        return Calibration.Evidence.ofDocument(labels, p, h, false, clip);
    }

    private static Object distribution(DistributionView d) {
        MethodView max = d.methods().get(MAX);
        return max == null ? null : max.distribution();
    }
}

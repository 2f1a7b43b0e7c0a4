package io.labelscope.math;

import java.util.ArrayList;
import java.util.List;

/**
 * Binary breakdown (SPEC §3): one prompt per unordered pair of L ∪ {none}; p(a beats b) = σ(z_a − z_b); fit
 * Bradley–Terry scores and report p_l = σ(s_l − s_none). The outcome variant rounds each p to 0/1 first
 * (Elo-style wins), which makes exact 0.5 results possible; see {@link Conventions#thresholdTolerance()}.
 */
public final class BinaryBreakdown {

    /** One pairwise prompt's answer: first-token logits of item a and item b (indices over labels + none). */
    public record PairLogits(int a, int b, double logitA, double logitB) {
    }

    private BinaryBreakdown() {
    }

    /** @param labelCount |L|; items are the labels then none (index labelCount). */
    public static double[] distribution(int labelCount, List<PairLogits> pairs, boolean outcome,
                                        Conventions conventions) {
        List<BradleyTerry.Comparison> comparisons = new ArrayList<>(pairs.size());
        for (PairLogits pair : pairs) {
            double p = Logistic.sigmoid(pair.logitA() - pair.logitB());
            if (outcome) {
                // Round half to even, as numpy's round does: a tie (p = 0.5) counts as a loss for a.
                p = Math.rint(p);
            }
            comparisons.add(new BradleyTerry.Comparison(pair.a(), pair.b(), p));
        }
        double[] s = BradleyTerry.fit(labelCount + 1, comparisons, conventions.btLambda(),
                conventions.btGradientTolerance());
        double[] dist = new double[labelCount];
        for (int i = 0; i < labelCount; i++) {
            dist[i] = Logistic.sigmoid(s[i] - s[labelCount]);
        }
        return dist;
    }
}

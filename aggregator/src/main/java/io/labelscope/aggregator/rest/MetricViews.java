package io.labelscope.aggregator.rest;

import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.AlignmentTally;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.metrics.SpikinessTally;
import io.labelscope.math.Moments;

import java.util.LinkedHashMap;
import java.util.Map;

/** Summed metrics as the JSON the REST API serves (means and rates, not sums). */
final class MetricViews {

    private MetricViews() {
    }

    static Map<String, Object> alignment(AlignmentTallies sum) {
        Map<String, Object> methods = new LinkedHashMap<>();
        sum.byMethod().forEach((method, t) -> methods.put(method, alignment(t)));
        return methods;
    }

    static Map<String, Object> alignment(AlignmentTally t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("documents", t.nll().count());
        m.put("mean_nll", mean(t.nll()));
        m.put("mean_l1", mean(t.l1()));
        m.put("mean_example_f1", mean(t.exampleF1()));
        return m;
    }

    static Map<String, Object> spikiness(SpikinessTallies sum) {
        Map<String, Object> cells = new LinkedHashMap<>();
        sum.byCell().forEach((cell, t) -> cells.put(cell, spikiness(cell, t)));
        return cells;
    }

    static Map<String, Object> spikiness(String cell, SpikinessTally t) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (SpikinessTallies.ANSWER_CELL.equals(cell)) {
            m.put("answers", t.answers());
            m.put("multilabel_answer_rate", rate(t.multilabel(), t.answers()));
            m.put("answers_with_2plus_labels", t.twoPlus());
            m.put("alphabetical_order_rate", rate(t.alphabetical(), t.twoPlus()));
            m.put("prompt_order_rate", rate(t.promptOrder(), t.twoPlus()));
            return m;
        }
        m.put("top1", summary(t.top1()));
        m.put("top2", summary(t.top2()));
        m.put("entropy_bits", summary(t.entropyBits()));
        m.put("top1_histogram", t.top1Histogram());
        if (t.rankings() > 0) {
            m.put("r1_pred", summary(t.r1Pred()));
            m.put("intermediate_at_r1", summary(t.intermediateAtR1()));
            m.put("next_top_prob_at_r1", summary(t.nextTopAtR1()));
            m.put("second_predicted_next_rate", rate(t.nextIsSecond(), t.rankings()));
            m.put("second_not_next", t.secondNotNext());
            m.put("second_never_predicted_rate", rate(t.neverPredicted(), t.secondNotNext()));
        }
        return m;
    }

    static Map<String, Object> summary(Moments moments) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", moments.count());
        m.put("mean", mean(moments));
        m.put("std", moments.count() == 0 ? null : moments.std());
        return m;
    }

    private static Double mean(Moments m) {
        return m.count() == 0 ? null : m.mean();
    }

    private static Double rate(long part, long whole) {
        return whole == 0 ? null : (double) part / whole;
    }
}

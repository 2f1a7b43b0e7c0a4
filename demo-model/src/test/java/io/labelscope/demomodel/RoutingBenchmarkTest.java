package io.labelscope.demomodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.demomodel.RoutingBenchmark.Point;
import io.labelscope.demomodel.RoutingBenchmark.Policy;
import io.labelscope.demomodel.RoutingBenchmark.Run;
import io.labelscope.demomodel.RoutingBenchmark.SimDocument;
import io.labelscope.math.AnnotationPriority.Settings;
import io.labelscope.math.Conventions;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The routing simulation's bookkeeping on hand-made documents (the model's p given, no decoding). */
class RoutingBenchmarkTest {

    private static final List<String> LABELS = List.of("a");
    private static final Conventions PAPER = Conventions.paper();

    private static SimDocument doc(String id, double p, int... yesVotes) {
        int[][] annotators = new int[yesVotes.length][];
        double yes = 0;
        for (int i = 0; i < yesVotes.length; i++) {
            annotators[i] = new int[] {yesVotes[i]};
            yes += yesVotes[i];
        }
        double gold = yes / yesVotes.length;
        return new SimDocument(id, new double[] {p}, annotators, new double[] {gold},
                gold >= 0.5 ? List.of("a") : List.of());
    }

    @Test
    void everyPolicySpendsTheWholeBudgetAndEndsAtTheGold() {
        List<SimDocument> docs = List.of(doc("d1", 0.3, 1, 0, 1), doc("d2", 0.6, 0, 0, 1, 1),
                doc("d3", 0.1, 0, 1), doc("d4", 0.9, 1), doc("d5", 0.5, 1, 0));
        // (3 − 1) + (4 − 1) + (2 − 1) + (1 − 1) + (2 − 1) = 7, in 2 rounds of at most 4: the last one is short
        RoutingBenchmark bench = new RoutingBenchmark(Settings.defaults(), PAPER, 2);
        assertThat(bench.budget(docs)).isEqualTo(7);
        for (Policy policy : RoutingBenchmark.POLICIES) {
            for (long seed = 1; seed <= 3; seed++) {
                List<Point> curve = bench.simulate(LABELS, docs, policy, seed).curve();
                assertThat(curve.get(0).spent()).isZero();
                Point last = curve.get(curve.size() - 1);
                assertThat(last.spent()).as(policy.name()).isEqualTo(7);
                assertThat(last.f1()).as(policy.name()).isEqualTo(1.0);
                assertThat(last.l1()).as(policy.name()).isCloseTo(0.0, within(1e-15));
            }
        }
    }

    @Test
    void theMaximumAnnotatorCountCapsTheBudget() {
        List<SimDocument> docs = List.of(doc("d1", 0.3, 1, 0, 1, 1, 0), doc("d2", 0.6, 0, 1));
        // at most 3 annotators: (3 − 1) + (2 − 1)
        assertThat(new RoutingBenchmark(Settings.defaults().withMaxAnnotators(3), PAPER, 3).budget(docs))
                .isEqualTo(3);
    }

    @Test
    void flipFallsBackToRandomPicksOnlyWhenNothingHasPriority() {
        // s = 2, one annotation per round. d1 (p = 0.1, every annotator says a): n = 1, k = 1 gives m = 1.2/3 = 0.4
        // and a yes vote 2.2/4 = 0.55 (priority 0.4); n = 2, k = 2 gives m = 2.2/4 = 0.55 and a no vote 2.2/5 =
        // 0.44 (priority 0.45). d2 (p = 0.1, nobody says a): m = 0.2/(2 + n) and a yes vote (1.2)/(3 + n) < 0.5,
        // priority 0 whatever it has seen. So flip spends d1's two annotations first, then d2's two at random.
        List<SimDocument> docs = List.of(doc("d1", 0.1, 1, 1, 1), doc("d2", 0.1, 0, 0, 0));
        RoutingBenchmark bench = new RoutingBenchmark(Settings.defaults(), PAPER, 4);
        Run flip = bench.simulate(LABELS, docs, RoutingBenchmark.POLICIES.get(1), 1);
        assertThat(RoutingBenchmark.POLICIES.get(1).name()).isEqualTo("flip");
        assertThat(flip.randomFallback()).isEqualTo(2);
        // uncertainty: H₂(0.1) > 0 for both documents, never a random pick
        assertThat(bench.simulate(LABELS, docs, RoutingBenchmark.POLICIES.get(2), 1).randomFallback()).isZero();
    }

    @Test
    void curvesAreReadBetweenRecordedPointsLinearly() {
        List<Point> curve = List.of(new Point(0, 0.5, 1.0, 0.4), new Point(4, 0.9, 0.2, 0.8),
                new Point(6, 1.0, 0.0, 1.0));
        Point p = RoutingBenchmark.at(curve, 3);
        // 3/4 of the way from (0.5, 1.0, 0.4) to (0.9, 0.2, 0.8)
        assertThat(p.f1()).isCloseTo(0.8, within(1e-15));
        assertThat(p.l1()).isCloseTo(0.4, within(1e-15));
        assertThat(p.estimateF1()).isCloseTo(0.7, within(1e-15));
        assertThat(RoutingBenchmark.at(curve, 6).f1()).isEqualTo(1.0);
        // a policy at least as good as the target: the first grid point that reaches it
        assertThat(RoutingBenchmark.needed(curve, 0.9, RoutingBenchmark.Metric.F1)).isEqualTo(4);
        assertThat(RoutingBenchmark.needed(curve, 0.1, RoutingBenchmark.Metric.L1)).isEqualTo(6);
        assertThat(RoutingBenchmark.needed(curve, 0.7, RoutingBenchmark.Metric.ESTIMATE_F1)).isEqualTo(4);
        assertThat(RoutingBenchmark.needed(curve, 1.1, RoutingBenchmark.Metric.F1)).isEqualTo(-1);
    }
}

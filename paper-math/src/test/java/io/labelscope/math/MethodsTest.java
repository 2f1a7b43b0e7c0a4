package io.labelscope.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** SPEC §1 and §3 by hand. Label set throughout: [a, b], arrays over labels + none are [a, b, none]. */
class MethodsTest {

    private static final Conventions PAPER = Conventions.paper();

    @Test
    void stepSoftmaxIsTheSoftmaxOverLabelsAndNone() {
        // logits ln1, ln3, ln1 → exp = 1, 3, 1 → / 5 = 0.2, 0.6, 0.2
        double[] p = StepSoftmax.probabilities(new double[] {0, Math.log(3), 0});
        assertThat(p).containsExactly(new double[] {0.2, 0.6, 0.2}, within(1e-15));
        // Adding 1000 to every logit changes nothing and must not overflow (1000 + ln 3 is only exact to
        // ~1e-13 in float64, hence the looser tolerance).
        double[] shifted = StepSoftmax.probabilities(new double[] {1000, 1000 + Math.log(3), 1000});
        assertThat(shifted).containsExactly(new double[] {0.2, 0.6, 0.2}, within(1e-12));
    }

    @Test
    void humanDistributionCountsEveryAnnotatorAndOneVoteEach() {
        // 4 annotators: {a,b}, {}, {a twice, differently written}, {b, unknown}
        // H_a = 2/4 (the repeated a is one vote), H_b = 2/4, H_c = 0/4; the empty set is in the denominator.
        List<String> labels = List.of("a", "b", "c");
        double[] h = HumanDistribution.of(labels,
                List.of(List.of("a", "b"), List.of(), List.of("A ", " a"), List.of("b", "zzz")));
        assertThat(h).containsExactly(0.5, 0.5, 0.0);
        assertThat(HumanDistribution.votes(labels,
                List.of(List.of("a", "b"), List.of(), List.of("A ", " a"), List.of("b", "zzz"))))
                .containsExactly(2, 2, 0);
        assertThat(HumanDistribution.of(labels, List.of())).isNull();
        assertThat(HumanDistribution.unknownLabels(labels, List.of("b", "zzz", "none"))).containsExactly("zzz");
    }

    @Test
    void maxOverGenerationsTakesTheMaxPerLabelWithAFloor() {
        // steps [a .2, b .6, none .2] and [a .5, b 0, none .5] → a = max(.2,.5) = .5, b = max(.6, 0) = .6
        double[] p = MaxOverGenerations.distribution(List.of(new double[] {0.2, 0.6, 0.2},
                new double[] {0.5, 0.0, 0.5}), 2, PAPER);
        assertThat(p).containsExactly(0.5, 0.6);
        // a label with probability 0 at every step gets the floor ε = 1e-8
        double[] floored = MaxOverGenerations.distribution(List.<double[]>of(new double[] {0.0, 1.0, 0.0}), 2, PAPER);
        assertThat(floored).containsExactly(1e-8, 1.0);
        // no step: ε everywhere (paper), 1/|L| = 0.5 (compat=code)
        assertThat(MaxOverGenerations.distribution(List.of(), 2, PAPER)).containsExactly(1e-8, 1e-8);
        assertThat(MaxOverGenerations.distribution(List.of(), 2, Conventions.code())).containsExactly(0.5, 0.5);
    }

    @Test
    void compareToNoneIsTheSigmoidOfTheLogitGapToNone() {
        // S = [a 2, b 0, none 0]: σ(2) = 1/(1+e^-2) = 0.8807970779778823, σ(0) = 0.5
        double[] p = CompareToNone.distribution(new double[] {2, 0, 0}, 2);
        assertThat(p).containsExactly(new double[] {0.8807970779778823, 0.5}, within(1e-15));
        // a far-below-none label keeps relative accuracy: σ(−800) = e^−800 underflows only below 1e-308
        assertThat(CompareToNone.distribution(new double[] {-40, 0, 0}, 2)[0])
                .isCloseTo(Math.exp(-40) / (1 + Math.exp(-40)), within(1e-30));
        assertThat(CompareToNone.distribution(null, 2)).containsExactly(0.5, 0.5);
    }

    @Test
    void hardPredictionsUseOnlyValidDistinctFinalLabels() {
        // final [c, none, zzz, C] → only c is a valid label: [ε, ε, 1−ε]
        double[] p = HardPredictions.distribution(List.of("a", "b", "c"), List.of("c", "none", "zzz", "C"), PAPER);
        assertThat(p).containsExactly(1e-8, 1e-8, 1 - 1e-8);
    }

    @Test
    void firstStepIsTheFirstStepsLabelProbabilities() {
        assertThat(FirstStep.distribution(new double[] {0.2, 0.6, 0.2}, 2, PAPER)).containsExactly(0.2, 0.6);
        assertThat(FirstStep.sortedLabelProbabilities(new double[] {0.2, 0.6, 0.2}, 2)).containsExactly(0.6, 0.2);
        assertThat(FirstStep.sortedLabelProbabilities(null, 2)).isNull();
    }

    @Test
    void unaryBreakdownIsTheSigmoidOfReasonableMinusUnreasonable() {
        // a: σ(3 − 1) = σ(2) = 0.8807970779778823; b: σ(1 − 1) = 0.5
        double[] p = UnaryBreakdown.distribution(new double[] {3, 1}, new double[] {1, 1});
        assertThat(p).containsExactly(new double[] {0.8807970779778823, 0.5}, within(1e-15));
    }

    @Test
    void bradleyTerryFindsTheRegularisedOptimumExactly() {
        // Two items, one comparison p. By symmetry s = (t, −t); the optimum solves σ(2t) − p + 2λt = 0.
        // Choose t = 0.5, λ = 0.01: p = σ(1) + 2·0.01·0.5 = 0.7310585786300049 + 0.01 = 0.7410585786300049.
        double p = 0.7310585786300049 + 0.01;
        double[] s = BradleyTerry.fit(2, List.of(new BradleyTerry.Comparison(0, 1, p)), 0.01, 1e-12);
        assertThat(s).containsExactly(new double[] {0.5, -0.5}, within(1e-12));
        // Deterministic: the same input gives bit-identical scores.
        assertThat(BradleyTerry.fit(2, List.of(new BradleyTerry.Comparison(0, 1, p)), 0.01, 1e-12)).isEqualTo(s);
    }

    @Test
    void binaryOutcomeCycleGivesExactlyOneHalfAndCountsAsPredicted() {
        // Items a, b, none. Logit gaps of 1 round to outcomes: a beats b, b beats none, none beats a.
        // Each item has one win and one loss, so s = 0 has zero gradient (−0.5 + 0.5 per item): p = σ(0) = 0.5.
        List<BinaryBreakdown.PairLogits> pairs = List.of(new BinaryBreakdown.PairLogits(0, 1, 2, 1),
                new BinaryBreakdown.PairLogits(1, 2, 2, 1), new BinaryBreakdown.PairLogits(2, 0, 2, 1));
        double[] p = BinaryBreakdown.distribution(2, pairs, true, PAPER);
        assertThat(p).containsExactly(new double[] {0.5, 0.5}, within(1e-15));
        assertThat(Alignment.predicted(List.of("a", "b"), p, PAPER)).containsExactly("a", "b");
        // Probabilities instead of outcomes: σ(1) = 0.731 for each winner, still a symmetric cycle → 0.5
        assertThat(BinaryBreakdown.distribution(2, pairs, false, PAPER))
                .containsExactly(new double[] {0.5, 0.5}, within(1e-12));
    }

    @Test
    void binaryBreakdownRanksAClearWinnerAboveNone() {
        // a beats none and b; none beats b: s_a > s_none > s_b, so p_a > 0.5 > p_b
        List<BinaryBreakdown.PairLogits> pairs = List.of(new BinaryBreakdown.PairLogits(0, 2, 3, 0),
                new BinaryBreakdown.PairLogits(0, 1, 3, 0), new BinaryBreakdown.PairLogits(2, 1, 3, 0));
        double[] p = BinaryBreakdown.distribution(2, pairs, false, PAPER);
        assertThat(p[0]).isGreaterThan(0.5);
        assertThat(p[1]).isLessThan(0.5);
    }

    @Test
    void conventionsRejectNonsense() {
        assertThatThrownBy(() -> Conventions.paper().withNllClip(0.7)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Conventions.paper().withEpsHard(0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Conventions.Mode.fromWireName(" CODE ")).isEqualTo(Conventions.Mode.CODE);
    }
}

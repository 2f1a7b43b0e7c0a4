package io.labelscope.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.math.AnnotationPriority.Settings;
import io.labelscope.math.AnnotationPriority.Strategy;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue #18's priorities by hand (s = 2 and at most 10 annotators unless a test says otherwise). */
class AnnotationPriorityTest {

    private static final Conventions PAPER = Conventions.paper();
    private static final Settings DEFAULTS = Settings.defaults();

    private static double[] flips(double[] p, int[] votes, int n) {
        return AnnotationPriority.flipProbabilities(p, votes, n, DEFAULTS, PAPER);
    }

    private static double flip(double p, int k, int n) {
        return flips(new double[] {p}, new int[] {k}, n)[0];
    }

    @Test
    void withoutAnnotatorsTheModelAloneIsTheEstimate() {
        // n = 0, s = 2: m = p.
        // a: m = 0.4, "no"; a yes vote gives (2·0.4 + 1)/3 = 0.6, "yes": flips with P(v = 1) = m = 0.4
        // b: m = 0.1, "no"; a yes vote gives (0.2 + 1)/3 = 0.4, still "no": 0
        // c: m = 0.8, "yes"; a no vote gives 1.6/3 = 0.533, still "yes": 0
        double[] p = {0.4, 0.1, 0.8};
        int[] none = {0, 0, 0};
        double[] f = flips(p, none, 0);
        assertThat(f[0]).isCloseTo(0.4, within(1e-15));
        assertThat(f[1]).isZero();
        assertThat(f[2]).isZero();
        assertThat(AnnotationPriority.priority(Strategy.FLIP, p, none, 0, DEFAULTS, PAPER))
                .isCloseTo(0.4, within(1e-15));
    }

    @Test
    void anEstimateOfExactlyOneHalfIsDecidedYes() {
        // p = 0.5, n = 0: m = 0.5 reaches 0.5 ("yes"); a no vote gives 1/3: flips with P(v = 0) = 1 − m = 0.5
        assertThat(flip(0.5, 0, 0)).isCloseTo(0.5, within(1e-15));
        // p = 0.5, k = 1 of n = 2: m = (1 + 1)/4 = 0.5 ("yes"); a no vote gives 2/5: 1 − m = 0.5
        assertThat(flip(0.5, 1, 2)).isCloseTo(0.5, within(1e-15));
        // p = 0, k = 1 of n = 1: m = 1/3 ("no"); a yes vote gives exactly 2/4 = 0.5, which reaches the
        // threshold, so it flips with P(v = 1) = m = 1/3 (a strict > would say 0)
        assertThat(flip(0.0, 1, 1)).isCloseTo(1.0 / 3.0, within(1e-15));
    }

    @Test
    void theToleranceAppliesToTheCurrentDecision() {
        // m = 0.5 − 5e-10 is within 1e-9 of 0.5: "yes"; a no vote gives ≈ 1/3: flips with 1 − m = 0.5 + 5e-10
        assertThat(flip(0.5 - 5e-10, 0, 0)).isCloseTo(0.5 + 5e-10, within(1e-13));
        // m = 0.5 − 2e-9 is not: "no"; a yes vote gives ≈ 2/3: flips with m = 0.5 − 2e-9
        assertThat(flip(0.5 - 2e-9, 0, 0)).isCloseTo(0.5 - 2e-9, within(1e-13));
    }

    @Test
    void theToleranceAppliesToTheDecisionAfterTheExtraVote() {
        // p = 0.25 − 1e-10, n = 0: m ≈ 0.25 ("no"); a yes vote gives (0.5 − 2e-10 + 1)/3 = 0.5 − 6.7e-11, within
        // 1e-9 of 0.5, so "yes": flips with m = 0.25 − 1e-10
        assertThat(flip(0.25 - 1e-10, 0, 0)).isCloseTo(0.25 - 1e-10, within(1e-13));
        // p = 0.25 − 1e-8: the yes vote gives 0.5 − 6.7e-9, not within 1e-9: no flip
        assertThat(flip(0.25 - 1e-8, 0, 0)).isZero();
    }

    @Test
    void anAnnotatorWhoChoseNoLabelCountsInN() {
        // annotators [] and [a]: k = (1, 0), n = 2; p = (0.5, 0.5)
        // a: m = (1 + 1)/4 = 0.5 ("yes"); a no vote gives 2/5: 1 − m = 0.5
        // b: m = (1 + 0)/4 = 0.25 ("no"); a yes vote gives 2/5: 0
        // (were [] dropped, n = 1: a's m = 2/3 could not flip and b's m = 1/3 would flip to 2/4: priority 1/3)
        List<String> labels = List.of("a", "b");
        List<List<String>> annotators = List.of(List.of(), List.of("a"));
        int[] votes = HumanDistribution.votes(labels, annotators);
        assertThat(votes).containsExactly(1, 0);
        double priority = AnnotationPriority.priority(Strategy.FLIP, new double[] {0.5, 0.5}, votes,
                annotators.size(), DEFAULTS, PAPER);
        assertThat(priority).isCloseTo(0.5, within(1e-15));
    }

    @Test
    void aDocumentAtTheMaximumAnnotatorCountIsNotRequested() {
        double[] p = {0.5};
        // n = 10 = the default maximum: 0 under every strategy, though one more vote could flip (m = 6/12)
        for (Strategy s : Strategy.values()) {
            assertThat(AnnotationPriority.priority(s, p, new int[] {5}, 10, DEFAULTS, PAPER)).as(s.wireName())
                    .isZero();
        }
        // n = 9, k = 4: m = (1 + 4)/11 = 5/11 ("no"); a yes vote gives 6/12 = 0.5: flips with 5/11
        assertThat(flip(0.5, 4, 9)).isCloseTo(5.0 / 11.0, within(1e-15));
        assertThat(AnnotationPriority.priority(Strategy.UNCERTAINTY, p, new int[] {4}, 9, DEFAULTS, PAPER))
                .isCloseTo(1.0, within(1e-15));
        // |0.5 − 4/9| = 1/18
        assertThat(AnnotationPriority.priority(Strategy.DISAGREEMENT, p, new int[] {4}, 9, DEFAULTS, PAPER))
                .isCloseTo(1.0 / 18.0, within(1e-15));
        // the maximum is a setting: at most 9 annotators makes n = 9 the last
        Settings nine = DEFAULTS.withMaxAnnotators(9);
        for (Strategy s : Strategy.values()) {
            assertThat(AnnotationPriority.priority(s, p, new int[] {4}, 9, nine, PAPER)).as(s.wireName()).isZero();
        }
    }

    @Test
    void thePriorStrengthIsASetting() {
        // s = 8, p = 0.4, k = 3 of n = 4: m = (3.2 + 3)/12 = 0.51667 ("yes"); a no vote gives 6.2/13 = 0.477:
        // flips with 1 − m = 5.8/12
        double f = AnnotationPriority.flipProbabilities(new double[] {0.4}, new int[] {3}, 4,
                DEFAULTS.withPriorStrength(8), PAPER)[0];
        assertThat(f).isCloseTo(5.8 / 12, within(1e-15));
        // with s = 2: m = (0.8 + 3)/6 = 0.633; a no vote gives 3.8/7 = 0.543, still "yes": 0
        assertThat(flip(0.4, 3, 4)).isZero();
        assertThatThrownBy(() -> DEFAULTS.withPriorStrength(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("prior strength");
    }

    @Test
    void uncertaintyIsTheModelsEntropyInBits() {
        // H₂(0.5) = 1; H₂(0.25) = 0.25·2 + 0.75·log₂(4/3) = 0.5 + 0.31127812445913283; H₂(1) = H₂(0) = 0
        double[] p = {0.5, 0.25, 1.0, 0.0};
        double expected = 1.8112781244591328;
        assertThat(AnnotationPriority.priority(Strategy.UNCERTAINTY, p, new int[4], 0, DEFAULTS, PAPER))
                .isCloseTo(expected, within(1e-15));
        // it ignores the humans
        assertThat(AnnotationPriority.priority(Strategy.UNCERTAINTY, p, new int[] {3, 0, 0, 1}, 3, DEFAULTS,
                PAPER)).isCloseTo(expected, within(1e-15));
    }

    @Test
    void disagreementIsTheL1BetweenModelAndHumans() {
        // p = (0.9, 0.2), k = (2, 1) of n = 2: H = (1, 0.5), L1 = 0.1 + 0.3 = 0.4
        double[] p = {0.9, 0.2};
        assertThat(AnnotationPriority.priority(Strategy.DISAGREEMENT, p, new int[] {2, 1}, 2, DEFAULTS, PAPER))
                .isCloseTo(0.4, within(1e-15));
        // nobody has annotated it yet: the largest possible L1, |L| = 2
        assertThat(AnnotationPriority.priority(Strategy.DISAGREEMENT, p, new int[] {0, 0}, 0, DEFAULTS, PAPER))
                .isEqualTo(2.0);
        // p is clipped to [1e-8, 1 − 1e-8] like SPEC §4's L1: |(1 − 1e-8) − 0| + |1e-8 − 1| = 2 − 2e-8
        assertThat(AnnotationPriority.priority(Strategy.DISAGREEMENT, new double[] {1.0, 0.0}, new int[] {0, 1}, 1,
                DEFAULTS, PAPER)).isCloseTo(2 - 2e-8, within(1e-15));
    }

    @Test
    void strategiesHaveWireNamesAndFlipIsTheDefault() {
        assertThat(Strategy.defaultStrategy()).isEqualTo(Strategy.FLIP);
        assertThat(Strategy.fromWireName("flip")).isEqualTo(Strategy.FLIP);
        assertThat(Strategy.fromWireName(" Uncertainty")).isEqualTo(Strategy.UNCERTAINTY);
        assertThat(Strategy.fromWireName("disagreement")).isEqualTo(Strategy.DISAGREEMENT);
        assertThatThrownBy(() -> Strategy.fromWireName("entropy")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'entropy'").hasMessageContaining("flip, uncertainty or disagreement");
    }

    @Test
    void inputThatCannotBeScoredIsRejectedWithTheReason() {
        assertThatThrownBy(() -> flips(new double[] {0.5}, new int[] {3}, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 votes from 2 annotators");
        assertThatThrownBy(() -> flips(new double[] {0.5, 0.5}, new int[] {0}, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 labels but the votes have 1");
        assertThatThrownBy(() -> flips(new double[] {Double.NaN}, new int[] {0}, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be in [0, 1]");
    }

    record Doc(String id, double priority) {
    }

    private static List<String> ranked(List<Doc> docs, int limit) {
        return AnnotationPriority.rank(docs, Doc::id, Doc::priority, limit, PAPER).stream().map(Doc::id).toList();
    }

    @Test
    void rankingIsHighestFirstTiesByIdAndOnlyPositive() {
        List<Doc> docs = List.of(new Doc("b", 0.3), new Doc("a", 0.3 + 1e-12), new Doc("c", 0.5),
                new Doc("d", 0.0), new Doc("e", 0.3 - 5e-10), new Doc("f", 0.2), new Doc("g", -0.0));
        // a, b and e are within 1e-9 of each other: by id
        assertThat(ranked(docs, 10)).containsExactly("c", "a", "b", "e", "f");
        assertThat(ranked(docs, 3)).containsExactly("c", "a", "b");
        assertThat(ranked(docs, 0)).isEmpty();
    }

    @Test
    void nearEqualPrioritiesChainIntoOneRun() {
        // x–y and y–w are within 1e-9, x–w (1.6e-9) is not: one run, ordered by id; v is 1.4e-9 above w: alone
        List<Doc> docs = List.of(new Doc("x", 1.0), new Doc("y", 1.0 + 0.8e-9), new Doc("w", 1.0 + 1.6e-9),
                new Doc("v", 1.0 + 3.0e-9));
        assertThat(ranked(docs, 10)).containsExactly("v", "w", "x", "y");
    }
}

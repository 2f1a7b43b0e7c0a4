package io.labelscope.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

/** SPEC §4 by hand. */
class AlignmentTest {

    private static final Conventions PAPER = Conventions.paper();
    private static final List<String> AB = List.of("a", "b");

    @Test
    void nllL1AndExampleF1() {
        // p = [0.9, 0.2], H = [1, 0.5]
        // NLL = −ln 0.9 − (0.5 ln 0.2 + 0.5 ln 0.8) = 0.10536051565782628 + 0.5·(1.6094379124341003 +
        //       0.2231435513142097) = 0.10536051565782628 + 0.916290731874155 = 1.0216512475319812
        // L1 = |0.9 − 1| + |0.2 − 0.5| = 0.1 + 0.3 = 0.4
        // Ŷ = {a} (0.2 < 0.5), Y = {a, b} (0.5 reaches 0.5): F1 = 2·1 / (2 + 1) = 2/3
        double[] p = {0.9, 0.2};
        double[] h = {1.0, 0.5};
        List<String> gold = Alignment.humanMajority(AB, h, PAPER);
        assertThat(gold).containsExactly("a", "b");
        Alignment.Scores s = Alignment.score(p, h, AB, gold, PAPER);
        assertThat(s.nll()).isCloseTo(1.0216512475319812, within(1e-15));
        assertThat(s.l1()).isCloseTo(0.4, within(1e-15));
        assertThat(s.exampleF1()).isEqualTo(2.0 / 3.0);
    }

    @Test
    void clippingKeepsNllFiniteAndAppliesToL1() {
        // p = [1, 0], H = [0, 0]: clip to [1−1e-8, 1e-8]
        // NLL = −ln(1 − (1−1e-8)) − ln(1 − 1e-8) = 18.420680743952367 + 1.000000005e-8
        // L1 = (1 − 1e-8) + 1e-8 = 1 (clipped p enters L1)
        double[] p = {1.0, 0.0};
        double[] h = {0.0, 0.0};
        assertThat(Alignment.nll(p, h, PAPER)).isCloseTo(18.420680743952367 + 1e-8, within(1e-8));
        assertThat(Alignment.l1(p, h, PAPER)).isCloseTo(1.0, within(1e-15));
    }

    @Test
    void aValueWithinTheToleranceBelowTheThresholdReachesIt() {
        double[] p = {0.5 - 5e-10, 0.5 - 2e-9};
        assertThat(Alignment.predicted(AB, p, PAPER)).containsExactly("a");
    }

    @Test
    void bothSetsEmptyGivesTheEmptyF1Setting() {
        assertThat(Alignment.exampleF1(List.of(), List.of(), PAPER)).isEqualTo(1.0);
        assertThat(Alignment.exampleF1(List.of(), List.of(), PAPER.withEmptyF1(0.0))).isEqualTo(0.0);
        // gold empty, prediction {a}: 2·0 / (0 + 1) = 0
        assertThat(Alignment.exampleF1(List.of(), List.of("a"), PAPER)).isEqualTo(0.0);
    }

    @Test
    void hardPredictionsNllIsAbout18Point42TimesL1() {
        // one wrong hard label out of two: NLL ≈ −ln 1e-8 = 18.42, L1 ≈ 1 (paper: NLL = 18.42·L1)
        double[] p = HardPredictions.distribution(AB, List.of("a"), PAPER);
        double[] h = {0.0, 0.0};
        assertThat(Alignment.nll(p, h, PAPER) / Alignment.l1(p, h, PAPER)).isCloseTo(18.42, within(0.01));
    }

    @Test
    void momentsAddAndSubtractExactly() {
        // 1, 2, 3: mean 2, population variance (1 + 0 + 1)/3 = 2/3
        Moments m = Moments.of(1).plus(Moments.of(2)).plus(Moments.of(3));
        assertThat(m.mean()).isEqualTo(2.0);
        assertThat(m.std()).isCloseTo(Math.sqrt(2.0 / 3.0), within(1e-15));
        // remove 3: 1, 2 → mean 1.5, std 0.5
        Moments less = m.minus(Moments.of(3));
        assertThat(less.count()).isEqualTo(2);
        assertThat(less.mean()).isEqualTo(1.5);
        assertThat(less.std()).isCloseTo(0.5, within(1e-15));
        assertThat(Moments.EMPTY.mean()).isNaN();
        assertThat(Summary.of(List.of(0.3, 0.3, 0.3)).std()).isEqualTo(0.0);
    }
}

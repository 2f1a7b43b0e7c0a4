package io.labelscope.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The paired t interval by hand (quantiles from a table: t(0.975, 4) = 2.7764451051977934, scipy 1.x). */
class PairedComparisonTest {

    @Test
    void fiveDocumentsByHand() {
        // d = a − b = (1, 2, 3, 4, 5): mean 3, s² = 10/4 = 2.5, s/√5 = √0.5
        double[] a = {1.5, 2, 3.25, 4, 5};
        double[] b = {0.5, 0, 0.25, 0, 0};
        PairedComparison c = PairedComparison.of(a, b);
        double half = 2.7764451051977934 * Math.sqrt(0.5);
        assertThat(c.documents()).isEqualTo(5);
        assertThat(c.meanDifference()).isCloseTo(3, within(1e-15));
        assertThat(c.low()).isCloseTo(3 - half, within(1e-9));
        assertThat(c.high()).isCloseTo(3 + half, within(1e-9));
    }

    @Test
    void theSignSaysWhichIsLargerAndSmallSamplesSayWhatTheyCannot() {
        PairedComparison twoDocs = PairedComparison.of(new double[] {0, 0}, new double[] {1, 3});
        // d = (−1, −3): mean −2, s = √2, se = 1, t(0.975, 1) = 12.706204736174694
        assertThat(twoDocs.meanDifference()).isEqualTo(-2.0);
        assertThat(twoDocs.high()).isCloseTo(-2 + 12.706204736174694, within(1e-9));
        assertThat(PairedComparison.of(new double[] {1}, new double[] {0}).low()).isNull();
        assertThat(PairedComparison.of(new double[0], new double[0]).meanDifference()).isNull();
        assertThatThrownBy(() -> PairedComparison.of(new double[1], new double[2]))
                .hasMessageContaining("same documents");
    }

    @Test
    void partsOfTheDocumentsAddUpToTheWhole() {
        // (Commons Math's t quantile agrees with the table to about 1e-10.)
        // The five documents above split over two parts (two partitions or instances): d = (1, 2) and (3, 4, 5).
        Moments first = Moments.of(1).plus(Moments.of(2));
        Moments second = Moments.of(3).plus(Moments.of(4)).plus(Moments.of(5));
        PairedComparison merged = PairedComparison.of(first.plus(second));
        double half = 2.7764451051977934 * Math.sqrt(0.5);
        assertThat(merged.documents()).isEqualTo(5);
        assertThat(merged.meanDifference()).isEqualTo(3.0);
        assertThat(merged.low()).isCloseTo(3 - half, within(1e-9));
        assertThat(merged.high()).isCloseTo(3 + half, within(1e-9));
        // equal differences: no spread, the interval is the mean (rounding clamped, never NaN)
        PairedComparison constant = PairedComparison.of(Moments.of(0.1).plus(Moments.of(0.1)).plus(Moments.of(0.1)));
        assertThat(constant.low()).isCloseTo(0.1, within(1e-15));
        assertThat(constant.high()).isCloseTo(0.1, within(1e-15));
    }
}

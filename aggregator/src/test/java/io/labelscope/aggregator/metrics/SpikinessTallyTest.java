package io.labelscope.aggregator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.math.GenerationDynamics;
import io.labelscope.math.Moments;
import io.labelscope.math.StepShape;
import org.junit.jupiter.api.Test;

/** Equality decides whether a re-sent run changed its spikiness contribution, so it must see every component. */
class SpikinessTallyTest {

    private static SpikinessTally tally(double top1, int bin, long rankings, long promptOrder) {
        long[] histogram = new long[SpikinessTally.BINS];
        histogram[bin] = 1;
        return new SpikinessTally(Moments.of(top1), Moments.of(0.2), Moments.of(0.9), histogram, Moments.EMPTY,
                Moments.of(0.1), Moments.EMPTY, rankings, 0, 1, 0, 1, 0, 1, 0, promptOrder);
    }

    @Test
    void equalContentIsEqualWhateverTheArrayInstance() {
        SpikinessTally a = tally(0.95, 9, 1, 1);
        SpikinessTally b = tally(0.95, 9, 1, 1);
        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        // Built another way: empty plus the tally (exact: adding zeros), with a fresh histogram array.
        assertThat(SpikinessTally.empty().plus(a)).isEqualTo(a).hasSameHashCodeAs(a);
    }

    @Test
    void anyDifferingComponentMakesThemDifferent() {
        SpikinessTally a = tally(0.95, 9, 1, 1);
        assertThat(a).isNotEqualTo(tally(0.95000001, 9, 1, 1)); // a moment
        assertThat(a).isNotEqualTo(tally(0.95, 8, 1, 1));       // only the histogram
        assertThat(a).isNotEqualTo(tally(0.95, 9, 2, 1));       // a ranking count
        assertThat(a).isNotEqualTo(tally(0.95, 9, 1, 0));       // the last component
        assertThat(a).isNotEqualTo(SpikinessTally.empty());
    }

    /** An intermediate step counts its shape and every ranking figure; the second was not written next. */
    @Test
    void intermediateStepCountsItsShapeAndRanking() {
        StepShape shape = new StepShape(0, 0.6, 1, 0.3, Math.log(2));
        GenerationDynamics.StepRanking ranking = new GenerationDynamics.StepRanking(1, 0.3, 2, false, 0.05, 0.2,
                0.7, Boolean.TRUE);
        SpikinessTally t = SpikinessTally.ofStep(shape, ranking);
        assertThat(t.top1()).isEqualTo(Moments.of(0.6));
        assertThat(t.top2()).isEqualTo(Moments.of(0.3));
        assertThat(t.entropyBits().mean()).isEqualTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(t.top1Histogram()).containsExactly(0, 0, 0, 0, 0, 0, 1, 0, 0, 0);
        assertThat(t.r1Pred()).isEqualTo(Moments.of(0.05));
        assertThat(t.intermediateAtR1()).isEqualTo(Moments.of(0.2));
        assertThat(t.nextTopAtR1()).isEqualTo(Moments.of(0.7));
        assertThat(new long[] {t.rankings(), t.nextIsSecond(), t.secondNotNext(), t.neverPredicted()})
                .containsExactly(1, 0, 1, 1);
        assertThat(new long[] {t.answers(), t.multilabel(), t.twoPlus(), t.alphabetical(), t.promptOrder()})
                .containsOnly(0);
    }

    /** The last step has no ranking: its shape only. */
    @Test
    void lastStepCountsItsShapeOnly() {
        SpikinessTally t = SpikinessTally.ofStep(new StepShape(2, 1.0, 0, 0.0, 0.0), null);
        assertThat(t.top1Histogram()[SpikinessTally.BINS - 1]).isEqualTo(1);
        assertThat(t.r1Pred()).isEqualTo(Moments.EMPTY);
        assertThat(t.intermediateAtR1()).isEqualTo(Moments.EMPTY);
        assertThat(t.rankings()).isZero();
        assertThat(t.secondNotNext()).isZero();
    }

    /** An answer of two labels in instruction order, not alphabetical; one without an order counts no order. */
    @Test
    void answerCountsItsLabelOrder() {
        SpikinessTally ordered = SpikinessTally.ofAnswer(true, new GenerationDynamics.OrderChecks(false, true));
        assertThat(new long[] {ordered.answers(), ordered.multilabel(), ordered.twoPlus(), ordered.alphabetical(),
                ordered.promptOrder()}).containsExactly(1, 1, 1, 0, 1);
        assertThat(ordered.top1()).isEqualTo(Moments.EMPTY);
        SpikinessTally single = SpikinessTally.ofAnswer(false, null);
        assertThat(new long[] {single.answers(), single.multilabel(), single.twoPlus(), single.alphabetical(),
                single.promptOrder()}).containsExactly(1, 0, 0, 0, 0);
    }
}

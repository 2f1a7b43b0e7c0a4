package io.labelscope.aggregator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.labelscope.math.Moments;
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
}

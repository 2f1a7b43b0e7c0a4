package io.labelscope.aggregator.state;

import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;

/**
 * What a run last contributed: its distribution and its share of the metrics, stamped with the generation
 * time the windowed metrics used. Kept so the next emission can subtract it (no double counting).
 */
public record Emitted(long generationTime, DistributionView distribution, AlignmentTallies alignment,
                      SpikinessTallies spikiness) {
}

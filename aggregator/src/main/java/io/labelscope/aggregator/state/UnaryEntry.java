package io.labelscope.aggregator.state;

/**
 * A run's unary-breakdown probes as kept in the document's state: the two answer logits of each probe, over
 * the labels in instruction order then none (none is probed too, but the breakdown itself uses the labels).
 */
public record UnaryEntry(double[] reasonable, double[] unreasonable, long producedAt) {
}

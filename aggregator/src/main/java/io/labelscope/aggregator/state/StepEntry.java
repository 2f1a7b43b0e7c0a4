package io.labelscope.aggregator.state;

import java.util.Map;

/** One label step as kept in the document's state: the logits (labels + none) and the label written. */
public record StepEntry(int step, int stepsTotal, String generated, Map<String, Double> logits, long producedAt) {
}

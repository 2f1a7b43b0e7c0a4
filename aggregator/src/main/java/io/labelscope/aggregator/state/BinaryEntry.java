package io.labelscope.aggregator.state;

import java.util.List;

/**
 * A run's binary-breakdown probes as kept in the document's state: one entry per unordered pair, items as
 * indices over the labels in instruction order then none (the indices paper-math's Bradley–Terry fit uses).
 */
public record BinaryEntry(List<Pair> pairs, long producedAt) {

    /** One pairwise prompt: option a was shown first; the first-answer-token logits of both options. */
    public record Pair(int a, int b, double logitA, double logitB) {
    }
}

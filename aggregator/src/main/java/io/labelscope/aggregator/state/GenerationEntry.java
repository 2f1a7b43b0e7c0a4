package io.labelscope.aggregator.state;

import java.util.List;

/**
 * The parts of a generation record the aggregator keeps: the parsed answer and how many steps to expect (what
 * the methods need), and the generated text it was parsed from (shown beside the steps by the document view;
 * null in state kept before it was).
 */
public record GenerationEntry(List<String> parsedLabels, int stepsTotal, long producedAt, String rawOutput) {
}

package io.labelscope.aggregator.state;

import java.util.List;

/** The parts of a generation record the methods need: the parsed answer and how many steps to expect. */
public record GenerationEntry(List<String> parsedLabels, int stepsTotal, long producedAt) {
}

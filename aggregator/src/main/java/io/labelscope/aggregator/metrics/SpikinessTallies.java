package io.labelscope.aggregator.metrics;

import com.fasterxml.jackson.annotation.JsonIgnore;

import java.util.Map;
import java.util.TreeMap;

/**
 * Generation-dynamics sums of one task/model, per cell: {@code "intermediate/0"}, {@code "last/2"} (0-based step
 * index) and {@code "answer"} for the per-answer statistics. Delta and aggregate, like {@link AlignmentTallies}.
 */
public record SpikinessTallies(Map<String, SpikinessTally> byCell) {

    public static final String ANSWER_CELL = "answer";

    public static String stepCell(boolean last, int stepIndex) {
        return (last ? "last/" : "intermediate/") + stepIndex;
    }

    public static SpikinessTallies empty() {
        return new SpikinessTallies(new TreeMap<>());
    }

    public SpikinessTallies plus(SpikinessTallies delta) {
        Map<String, SpikinessTally> sum = new TreeMap<>(byCell);
        delta.byCell.forEach((k, v) -> sum.merge(k, v, SpikinessTally::plus));
        return new SpikinessTallies(sum);
    }

    public SpikinessTallies negate() {
        Map<String, SpikinessTally> d = new TreeMap<>();
        byCell.forEach((k, v) -> d.put(k, SpikinessTally.empty().minus(v)));
        return new SpikinessTallies(d);
    }

    @JsonIgnore
    public boolean isEmpty() {
        return byCell.isEmpty();
    }
}

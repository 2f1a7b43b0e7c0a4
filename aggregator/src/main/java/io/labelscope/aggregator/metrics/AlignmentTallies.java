package io.labelscope.aggregator.metrics;

import java.util.Map;
import java.util.TreeMap;

/**
 * Alignment sums of one task/model, per method. One value per task/model keeps a dashboard panel in one
 * partition, so an interactive query asks one instance. The same type is a delta (what one document changed)
 * and an aggregate (the sum of all deltas).
 */
public record AlignmentTallies(Map<String, AlignmentTally> byMethod) {

    public static AlignmentTallies empty() {
        return new AlignmentTallies(new TreeMap<>());
    }

    public AlignmentTallies plus(AlignmentTallies delta) {
        Map<String, AlignmentTally> sum = new TreeMap<>(byMethod);
        delta.byMethod.forEach((k, v) -> sum.merge(k, v, AlignmentTally::plus));
        return new AlignmentTallies(sum);
    }

    /** new − old, method by method (methods only in one of them included). */
    public static AlignmentTallies change(AlignmentTallies oldValue, AlignmentTallies newValue) {
        Map<String, AlignmentTally> d = new TreeMap<>();
        newValue.byMethod.forEach((k, v) -> d.put(k, v));
        oldValue.byMethod.forEach((k, v) -> d.merge(k, AlignmentTally.EMPTY.minus(v), AlignmentTally::plus));
        return new AlignmentTallies(d);
    }

    public AlignmentTallies negate() {
        return change(this, empty());
    }
}

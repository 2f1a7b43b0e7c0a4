package io.labelscope.aggregator.metrics;

import com.fasterxml.jackson.annotation.JsonIgnore;

import io.labelscope.math.ReliabilityDiagram;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Reliability-diagram sums of one task/model (docs/calibration.md §1): per method, per label, paper-math's
 * {@link ReliabilityDiagram} (10 bins of count, Σp, ΣH) over the (document, label) pairs of annotated documents.
 * Delta and aggregate, like {@link AlignmentTallies}: a document's contribution is added when it is scored and
 * subtracted when its annotations or its distribution change.
 *
 * <p>Only per-label diagrams are kept: the pooled diagram of a method is their sum ({@link #pooled}), since every
 * pair belongs to exactly one label, so it needs no sums of its own.
 */
public record CalibrationTallies(SortedMap<String, SortedMap<String, ReliabilityDiagram>> byMethod) {

    public static CalibrationTallies empty() {
        return new CalibrationTallies(new TreeMap<>());
    }

    /**
     * One document's contribution: for every method present, one pair (p, H) per label of the label set, where p is
     * the method's published distribution value. Without annotators ({@code human} null) every diagram is empty, so
     * a first contribution still names the task/model's methods and labels (their rows then show 0 pairs).
     *
     * @param labels        the task's label set, without {@code none}
     * @param human         H per label, null when the document has no annotator
     * @param distributions per method, its distribution over the labels as published
     */
    public static CalibrationTallies ofDocument(List<String> labels, Map<String, Double> human,
                                                Map<String, Map<String, Double>> distributions) {
        SortedMap<String, SortedMap<String, ReliabilityDiagram>> byMethod = new TreeMap<>();
        distributions.forEach((method, p) -> {
            SortedMap<String, ReliabilityDiagram> byLabel = new TreeMap<>();
            for (String label : labels) {
                byLabel.put(label, human == null ? ReliabilityDiagram.EMPTY
                        : ReliabilityDiagram.ofPair(p.get(label), human.get(label)));
            }
            byMethod.put(method, byLabel);
        });
        return new CalibrationTallies(byMethod);
    }

    public CalibrationTallies plus(CalibrationTallies delta) {
        return combine(delta, true);
    }

    public CalibrationTallies minus(CalibrationTallies other) {
        return combine(other, false);
    }

    /** The contribution's change from {@code old} to {@code now}: what to add to a sum holding {@code old}. */
    public static CalibrationTallies change(CalibrationTallies old, CalibrationTallies now) {
        return now.minus(old);
    }

    public CalibrationTallies negate() {
        return empty().minus(this);
    }

    private CalibrationTallies combine(CalibrationTallies o, boolean add) {
        SortedMap<String, SortedMap<String, ReliabilityDiagram>> out = new TreeMap<>();
        byMethod.forEach((method, byLabel) -> out.put(method, new TreeMap<>(byLabel)));
        o.byMethod.forEach((method, byLabel) -> {
            SortedMap<String, ReliabilityDiagram> target = out.computeIfAbsent(method, m -> new TreeMap<>());
            byLabel.forEach((label, d) -> {
                ReliabilityDiagram base = target.getOrDefault(label, ReliabilityDiagram.EMPTY);
                target.put(label, add ? base.plus(d) : base.minus(d));
            });
        });
        return new CalibrationTallies(out);
    }

    /** A method's diagram over all its labels' pairs. */
    public static ReliabilityDiagram pooled(Map<String, ReliabilityDiagram> byLabel) {
        ReliabilityDiagram sum = ReliabilityDiagram.EMPTY;
        for (ReliabilityDiagram d : byLabel.values()) {
            sum = sum.plus(d);
        }
        return sum;
    }

    /**
     * True when this change moves nothing: every bin's count and sums are exactly 0 (a re-scored document whose
     * pairs are the same subtracts exactly what it adds).
     */
    @JsonIgnore
    public boolean isZero() {
        return byMethod.values().stream().flatMap(m -> m.values().stream()).flatMap(d -> d.bins().stream())
                .allMatch(b -> b.count() == 0 && b.sumPredicted() == 0 && b.sumHuman() == 0);
    }
}

package io.labelscope.aggregator.input;

import io.labelscope.aggregator.document.DocumentStates;

import io.labelscope.aggregator.input.Rejections.Reason;
import io.labelscope.aggregator.input.Rejections.Rejection;
import io.labelscope.math.HumanDistribution;
import io.labelscope.math.Labels;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.PairLogits;
import io.labelscope.schemas.UnaryLogits;
import io.labelscope.schemas.UnaryProbes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every check of an input record, each returning why it is refused ({@link Rejection}) or null: the ones that
 * need no state (applied by {@link InputDecoder}, each worker record's starting with the one {@link #prelude} for
 * key, label set and method set), and the ones against what the document's earlier records fixed (applied by
 * {@link DocumentAssembler}: the label set, an annotation's task and labels).
 */
public final class InputChecks {

    private InputChecks() {
    }

    /**
     * What every step, generation and probe record is checked for first: its key is its document id (else it
     * would land on the wrong partition), it carries a usable label set (without it nothing can be scored) and,
     * unless it is a step ({@code ownMethod} null: steps do not carry it), a method set of known names that
     * includes its own method (a generation of a run that does not generate would leave the aggregator waiting
     * for the wrong records).
     */
    public static Rejection prelude(String key, String documentId, List<String> labels, List<String> methods,
                             String ownMethod) {
        if (!documentId.equals(key)) {
            return new Rejection(Reason.KEY_MISMATCH, "record key '" + key + "' is not its document_id '"
                    + documentId + "': it would land on the wrong partition");
        }
        String labelProblem = labelSetProblem(labels);
        if (labelProblem != null) {
            return new Rejection(Reason.INVALID_LABEL_SET, labelProblem);
        }
        if (ownMethod == null) {
            return null;
        }
        String methodsProblem = methodsProblem(methods, ownMethod);
        return methodsProblem == null ? null : new Rejection(Reason.INVALID_METHODS, methodsProblem);
    }

    /** A step: its index within 0..steps_total−1, one finite logit for every label and none, nothing else. */
    public static Rejection step(String key, LabelStep s) {
        Rejection prelude = prelude(key, s.getDocumentId(), s.getLabels(), null, null);
        if (prelude != null) {
            return prelude;
        }
        if (s.getStepsTotal() < 1 || s.getStep() < 0 || s.getStep() >= s.getStepsTotal()) {
            return new Rejection(Reason.INVALID_STEP, "step " + s.getStep() + " of " + s.getStepsTotal()
                    + " is outside 0..steps_total-1");
        }
        List<String> labels = Labels.normalizeLabelSet(s.getLabels());
        Set<String> expected = new HashSet<>(labels);
        expected.add(Labels.NONE);
        Set<String> seen = new HashSet<>();
        for (Map.Entry<String, Double> e : s.getLogits().entrySet()) {
            String name = Labels.normalize(e.getKey());
            if (!expected.contains(name)) {
                return new Rejection(Reason.UNKNOWN_LABEL, "step " + s.getStep() + " has a logit for '"
                        + e.getKey() + "', which is not a label of task " + s.getTask() + " " + labels + " nor none");
            }
            if (e.getValue() == null || !Double.isFinite(e.getValue())) {
                return new Rejection(Reason.INVALID_LOGIT, "step " + s.getStep() + ": logit of '" + e.getKey()
                        + "' is " + e.getValue());
            }
            seen.add(name);
        }
        expected.removeAll(seen);
        if (!expected.isEmpty()) {
            return new Rejection(Reason.MISSING_LOGIT, "step " + s.getStep() + " has no logit for " + expected
                    + " (every label and none are needed)");
        }
        return null;
    }

    public static Rejection generation(String key, Generation g) {
        Rejection prelude = prelude(key, g.getDocumentId(), g.getLabels(), g.getMethods(), DocumentStates.GENERATE);
        if (prelude != null) {
            return prelude;
        }
        if (g.getStepsTotal() < 0) {
            return new Rejection(Reason.INVALID_STEP, "steps_total is negative: " + g.getStepsTotal());
        }
        return null;
    }

    /** Unary probes: one (reasonable, unreasonable) pair of finite logits for every label and none, nothing else. */
    public static Rejection unary(String key, UnaryProbes u) {
        Rejection prelude = prelude(key, u.getDocumentId(), u.getLabels(), u.getMethods(), DocumentStates.UNARY);
        if (prelude != null) {
            return prelude;
        }
        List<String> labels = Labels.normalizeLabelSet(u.getLabels());
        Set<String> expected = new HashSet<>(labels);
        expected.add(Labels.NONE);
        Set<String> seen = new HashSet<>();
        for (Map.Entry<String, UnaryLogits> e : u.getProbes().entrySet()) {
            String name = Labels.normalize(e.getKey());
            if (!expected.contains(name)) {
                return new Rejection(Reason.UNKNOWN_LABEL, "unary probe for '" + e.getKey()
                        + "', which is not a label of task " + u.getTask() + " " + labels + " nor none");
            }
            if (!seen.add(name)) {
                return new Rejection(Reason.DUPLICATE_PROBE, "two unary probes for '" + name + "'");
            }
            UnaryLogits z = e.getValue();
            if (!Double.isFinite(z.getReasonable()) || !Double.isFinite(z.getUnreasonable())) {
                return new Rejection(Reason.INVALID_LOGIT, "unary probe of '" + e.getKey() + "' has logits "
                        + z.getReasonable() + ", " + z.getUnreasonable());
            }
        }
        expected.removeAll(seen);
        if (!expected.isEmpty()) {
            return new Rejection(Reason.MISSING_PROBE, "no unary probe for " + expected
                    + " (every label and none are needed)");
        }
        return null;
    }

    /** Binary probes: every unordered pair of labels ∪ {none} exactly once, with finite logits. */
    public static Rejection binary(String key, BinaryProbes b) {
        Rejection prelude = prelude(key, b.getDocumentId(), b.getLabels(), b.getMethods(), DocumentStates.BINARY);
        if (prelude != null) {
            return prelude;
        }
        List<String> items = new ArrayList<>(Labels.normalizeLabelSet(b.getLabels()));
        items.add(Labels.NONE);
        Set<String> seen = new HashSet<>();
        for (PairLogits p : b.getPairs()) {
            String a = Labels.normalize(p.getA());
            String c = Labels.normalize(p.getB());
            for (String item : List.of(a, c)) {
                if (!items.contains(item)) {
                    return new Rejection(Reason.UNKNOWN_LABEL, "binary pair (" + p.getA() + ", " + p.getB()
                            + ") names '" + item + "', which is not a label of task " + b.getTask() + " "
                            + items.subList(0, items.size() - 1) + " nor none");
                }
            }
            if (a.equals(c)) {
                return new Rejection(Reason.INVALID_PAIR, "binary pair compares '" + a + "' with itself");
            }
            if (!seen.add(pairKey(a, c))) {
                return new Rejection(Reason.DUPLICATE_PAIR, "binary pair {" + a + ", " + c + "} occurs twice");
            }
            if (!Double.isFinite(p.getLogitA()) || !Double.isFinite(p.getLogitB())) {
                return new Rejection(Reason.INVALID_LOGIT, "binary pair (" + a + ", " + c + ") has logits "
                        + p.getLogitA() + ", " + p.getLogitB());
            }
        }
        List<String> missing = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            for (int j = i + 1; j < items.size(); j++) {
                if (!seen.contains(pairKey(items.get(i), items.get(j)))) {
                    missing.add("{" + items.get(i) + ", " + items.get(j) + "}");
                }
            }
        }
        if (!missing.isEmpty()) {
            return new Rejection(Reason.MISSING_PAIR, "no binary probe for " + missing
                    + " (every unordered pair of labels and none is needed)");
        }
        return null;
    }

    /**
     * An annotation names its document and annotator. No key check: the topology re-keys annotations by this
     * document id (users' clients may key or partition them otherwise, see TopologyProducer#annotationsByDocument),
     * so the id must name one.
     */
    public static Rejection annotation(Annotation a) {
        if (a.getDocumentId() == null || a.getDocumentId().isBlank()) {
            return new Rejection(Reason.INVALID, "annotation without a document id");
        }
        if (a.getAnnotatorId() == null || a.getAnnotatorId().isBlank()) {
            return new Rejection(Reason.INVALID, "annotation without an annotator id");
        }
        return null;
    }

    /**
     * A record's label set against the one the document's first step, generation or probe record fixed: another
     * set is refused (its numbers would not be comparable).
     */
    public static Rejection sameLabelSet(List<String> documentLabels, List<String> labels) {
        return documentLabels.equals(labels) ? null : new Rejection(Reason.LABEL_SET_MISMATCH, "label set " + labels
                + " differs from the set " + documentLabels + " this document's earlier records carried");
    }

    /**
     * An annotation against its document: of another task ({@code task_mismatch}; checked first: the labels of
     * another task mean nothing here) or naming a label outside the set ({@code unknown_label}). A null task (an
     * annotation held in state written before the task was kept) is not checked.
     */
    public static Rejection annotationFits(String documentId, String documentTask, List<String> documentLabels,
                                    String task, List<String> labels) {
        if (task != null && !task.equals(documentTask)) {
            return new Rejection(Reason.TASK_MISMATCH, "annotation is for task '" + task + "', but document '"
                    + documentId + "' belongs to task '" + documentTask
                    + "' (from its label steps, generation or probes)");
        }
        Set<String> unknown = HumanDistribution.unknownLabels(documentLabels, labels);
        return unknown.isEmpty() ? null : new Rejection(Reason.UNKNOWN_LABEL, "annotation names " + unknown
                + ", not labels of task " + documentTask + " " + documentLabels);
    }

    private static String pairKey(String a, String b) {
        return a.compareTo(b) < 0 ? a + "\u0000" + b : b + "\u0000" + a;
    }

    private static String methodsProblem(List<String> methods, String own) {
        if (methods == null || methods.isEmpty()) {
            return "record lists no methods (field 'methods' is empty)";
        }
        for (String m : methods) {
            if (!DocumentStates.METHODS.contains(m)) {
                return "unknown method '" + m + "' (known: " + DocumentStates.METHODS + ")";
            }
        }
        if (!methods.contains(own)) {
            return "a " + own + " record of a run whose methods " + methods + " do not include " + own;
        }
        return null;
    }

    private static String labelSetProblem(List<String> labels) {
        if (labels == null || labels.isEmpty()) {
            return "record carries no label set (field 'labels' is empty)";
        }
        try {
            Labels.normalizeLabelSet(labels);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }
}

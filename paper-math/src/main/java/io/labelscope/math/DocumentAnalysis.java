package io.labelscope.math;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Everything the paper computes for one document: step distributions, the methods of SPEC §3, their alignment
 * with the annotators (SPEC §4) and the generation dynamics (SPEC §5). The offline eval and the streaming
 * aggregator both call {@link #analyse}, so there is one copy of the science.
 */
public final class DocumentAnalysis {

    /** One recorded label generation step: raw logits over labels + none (none last) and the label written. */
    public record StepInput(double[] logitsWithNone, String generated) {
    }

    /** Unary-breakdown logits per label, in label order. */
    public record UnaryInput(double[] reasonable, double[] unreasonable) {
    }

    /**
     * A document as recorded.
     *
     * @param id          document id (for error messages)
     * @param labels      normalised label set in instruction order
     * @param steps       label generation steps in order (may be empty)
     * @param finalLabels parsed answer as generated
     * @param annotators  one label set per annotator; null or empty when nobody annotated yet
     * @param goldLabels  optional gold override; null means {l : H_l ≥ threshold}
     * @param unary       optional unary-breakdown input
     * @param binary      optional binary-breakdown input (pairs over labels + none)
     */
    public record DocumentInput(String id, List<String> labels, List<StepInput> steps, List<String> finalLabels,
                                List<List<String>> annotators, List<String> goldLabels, UnaryInput unary,
                                List<BinaryBreakdown.PairLogits> binary) {
    }

    /** A method's distribution over the labels, its predicted labels and (with annotators) its alignment. */
    public record MethodResult(double[] distribution, List<String> predictedLabels, Alignment.Scores scores) {
    }

    /**
     * The analysis of one document.
     *
     * @param human                 H over the labels, null without annotators
     * @param goldLabels            Y (override or human majority), null without annotators and override
     * @param goldFromOverride      true when Y came from the input's gold labels
     * @param stepProbabilities     P_r per step over labels + none
     * @param generatedAsRecorded   per step, the generated label as the record wrote it (may be null)
     * @param methods               per method; FIRST_STEP is always there, the breakdowns when their input is
     * @param firstStepSortedLabelProbabilities P_0 over the labels sorted high to low; null without steps
     * @param labelOrderCorrect     per position of a ≥ 2-label generation sequence, 1 when the label is gold
     */
    public record Report(String id, List<String> labels, List<double[]> stepProbabilities,
                         List<String> generatedAsRecorded, GenerationDynamics.Result dynamics,
                         double[] human, int annotatorCount,
                         List<String> goldLabels, boolean goldFromOverride, Map<Method, MethodResult> methods,
                         double[] firstStepSortedLabelProbabilities, List<Integer> labelOrderCorrect) {

        public boolean annotated() {
            return human != null;
        }

        /** This report with one more method's result (the calibrated method, which needs other documents). */
        public Report withMethod(Method method, MethodResult result) {
            Map<Method, MethodResult> m = new EnumMap<>(Method.class);
            m.putAll(methods);
            m.put(method, result);
            return new Report(id, labels, stepProbabilities, generatedAsRecorded, dynamics, human, annotatorCount,
                    goldLabels, goldFromOverride, m, firstStepSortedLabelProbabilities, labelOrderCorrect);
        }
    }

    private DocumentAnalysis() {
    }

    public static Report analyse(DocumentInput doc, Conventions conventions) {
        List<String> labels = doc.labels();
        int labelCount = labels.size();
        List<double[]> probs = new ArrayList<>(doc.steps().size());
        List<String> generated = new ArrayList<>(doc.steps().size());
        for (int i = 0; i < doc.steps().size(); i++) {
            StepInput step = doc.steps().get(i);
            if (step.logitsWithNone() == null || step.logitsWithNone().length != labelCount + 1) {
                throw new InvalidInputException(doc.id(), i + 1, "needs a logit for each of the " + labelCount
                        + " labels and none");
            }
            try {
                probs.add(StepSoftmax.probabilities(step.logitsWithNone()));
            } catch (IllegalArgumentException e) {
                throw new InvalidInputException(doc.id(), i + 1, e.getMessage());
            }
            generated.add(step.generated());
        }
        List<String> finalLabels = doc.finalLabels() == null ? List.of() : doc.finalLabels();
        GenerationDynamics.Result dynamics = GenerationDynamics.analyse(labels, probs, generated, finalLabels,
                conventions);

        List<List<String>> annotators = doc.annotators() == null ? List.of() : doc.annotators();
        double[] human = HumanDistribution.of(labels, annotators);
        List<String> gold;
        boolean goldFromOverride = doc.goldLabels() != null;
        if (goldFromOverride) {
            gold = Labels.distinctValid(labels, doc.goldLabels());
        } else {
            gold = human == null ? null : Alignment.humanMajority(labels, human, conventions);
        }

        double[] first = probs.isEmpty() ? null : probs.get(0);
        double[] firstLogits = doc.steps().isEmpty() ? null : doc.steps().get(0).logitsWithNone();
        Map<Method, double[]> dists = new EnumMap<>(Method.class);
        dists.put(Method.MAX_OVER_GENERATIONS, MaxOverGenerations.distribution(probs, labelCount, conventions));
        dists.put(Method.COMPARE_TO_NONE, CompareToNone.distribution(firstLogits, labelCount));
        dists.put(Method.HARD_PREDICTIONS, HardPredictions.distribution(labels, finalLabels, conventions));
        dists.put(Method.FIRST_STEP, FirstStep.distribution(first, labelCount, conventions));
        if (doc.unary() != null) {
            dists.put(Method.UNARY_BREAKDOWN,
                    UnaryBreakdown.distribution(doc.unary().reasonable(), doc.unary().unreasonable()));
        }
        if (doc.binary() != null && !doc.binary().isEmpty()) {
            dists.put(Method.BINARY_BREAKDOWN,
                    BinaryBreakdown.distribution(labelCount, doc.binary(), false, conventions));
            dists.put(Method.BINARY_OUTCOME,
                    BinaryBreakdown.distribution(labelCount, doc.binary(), true, conventions));
        }
        Map<Method, MethodResult> methods = new EnumMap<>(Method.class);
        for (Map.Entry<Method, double[]> e : dists.entrySet()) {
            double[] p = e.getValue();
            Alignment.Scores scores = human == null ? null : Alignment.score(p, human, labels, gold, conventions);
            methods.put(e.getKey(), new MethodResult(p, Alignment.predicted(labels, p, conventions), scores));
        }

        List<Integer> orderCorrect = null;
        List<String> sequence = dynamics.generationSequence();
        if (sequence.size() >= 2 && gold != null) {
            orderCorrect = new ArrayList<>();
            for (String l : sequence) {
                orderCorrect.add(gold.contains(l) ? 1 : 0);
            }
        }
        return new Report(doc.id(), labels, probs, Collections.unmodifiableList(generated), dynamics, human, annotators.size(), gold, goldFromOverride,
                methods, FirstStep.sortedLabelProbabilities(first, labelCount), orderCorrect);
    }
}

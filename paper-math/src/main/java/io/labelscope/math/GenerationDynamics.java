package io.labelscope.math;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Generation-dynamics statistics of one generated answer (SPEC §5, paper §4 and appendix D).
 *
 * <p>The paper's point is that each step is only informative about the label being written: the label ranked
 * second at step r is often not the one written next and often never written. These statistics measure that.
 */
public final class GenerationDynamics {

    /**
     * Relative-ranking figures of an intermediate step r (all indices over labels + none).
     *
     * @param secondIndex          expected next = the second-ranked entry of P_r
     * @param secondProbability    P_r(expected)
     * @param nextIndex            actual next = the label of step r+1 ({@code compat=code}: argmax P_{r+1})
     * @param nextIsSecond         expected == actual ("second predicted next")
     * @param nextProbabilityAtR   P_r(actual), only when actual ≠ argmax P_r ("r+1 pred"); else null
     * @param secondProbabilityAtNext P_{r+1}(expected) ("intermediate @ r+1")
     * @param nextTopProbability   max P_{r+1}
     * @param secondNeverPredicted when expected ≠ actual: expected is the label of no later step
     *                             ({@code compat=code}: absent from the final parsed labels); else null
     */
    public record StepRanking(int secondIndex, double secondProbability, int nextIndex, boolean nextIsSecond,
                              Double nextProbabilityAtR, double secondProbabilityAtNext,
                              double nextTopProbability, Boolean secondNeverPredicted) {
    }

    /** Label order checks of a generation sequence of ≥ 2 labels (paper Table 7). */
    public record OrderChecks(boolean alphabetical, boolean promptOrder) {
    }

    /**
     * @param stepLabelIndices      per step, the label written there (index over labels + none)
     * @param shapes                per step, top-1/top-2/entropy
     * @param rankings              per step, the ranking figures; null on the last step
     * @param generationSequence    distinct labels of L in step-label order (no steps: distinct valid finals)
     * @param finalValidLabels      distinct labels of L in the final answer, in output order
     * @param multilabelOutput      more than one distinct valid final label (paper Fig. 6)
     * @param order                 order checks, null for sequences shorter than 2
     */
    public record Result(List<Integer> stepLabelIndices, List<StepShape> shapes, List<StepRanking> rankings,
                         List<String> generationSequence, List<String> finalValidLabels,
                         boolean multilabelOutput, OrderChecks order) {

        public int stepCount() {
            return shapes.size();
        }

        /** Whether step {@code i} (0-based) is the last step of the answer. */
        public boolean isLast(int i) {
            return i == shapes.size() - 1;
        }
    }

    private GenerationDynamics() {
    }

    /**
     * @param labels             task labels (normalised, instruction order)
     * @param stepProbabilities  P_r per step over labels + none
     * @param generated          per step, the label recorded as generated (raw; null or unknown allowed)
     * @param finalLabels        the parsed answer as generated
     */
    public static Result analyse(List<String> labels, List<double[]> stepProbabilities, List<String> generated,
                                 List<String> finalLabels, Conventions conventions) {
        int n = stepProbabilities.size();
        List<StepShape> shapes = new ArrayList<>(n);
        List<Integer> stepLabels = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            StepShape shape = StepShape.of(stepProbabilities.get(i));
            shapes.add(shape);
            stepLabels.add(stepLabel(labels, generated.get(i), shape));
        }

        Set<String> finalParsed = new HashSet<>();
        if (finalLabels != null) {
            for (String raw : finalLabels) {
                finalParsed.add(Labels.normalize(raw));
            }
        }

        List<StepRanking> rankings = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            rankings.add(i == n - 1 ? null
                    : ranking(labels, i, stepProbabilities, shapes, stepLabels, finalParsed, conventions));
        }

        List<String> finalValid = Labels.distinctValid(labels, finalLabels);
        List<String> sequence;
        if (n == 0) {
            sequence = finalValid;
        } else {
            Set<String> seq = new LinkedHashSet<>();
            for (int idx : stepLabels) {
                if (idx < labels.size()) {
                    seq.add(labels.get(idx));
                }
            }
            sequence = new ArrayList<>(seq);
        }
        return new Result(List.copyOf(stepLabels), List.copyOf(shapes), rankings, List.copyOf(sequence),
                List.copyOf(finalValid), finalValid.size() > 1, orderChecks(labels, sequence));
    }

    /** The recorded label when it is a label or none; otherwise (null, unknown string) the step's argmax. */
    static int stepLabel(List<String> labels, String generated, StepShape shape) {
        int idx = generated == null ? -1 : Labels.indexWithNone(labels, Labels.normalize(generated));
        return idx >= 0 ? idx : shape.top1Index();
    }

    private static StepRanking ranking(List<String> labels, int i, List<double[]> probs, List<StepShape> shapes,
                                       List<Integer> stepLabels, Set<String> finalParsed,
                                       Conventions conventions) {
        double[] current = probs.get(i);
        double[] next = probs.get(i + 1);
        StepShape shape = shapes.get(i);
        int expected = shape.top2Index();
        int actual = conventions.codeCompat() ? shapes.get(i + 1).top1Index() : stepLabels.get(i + 1);
        boolean nextIsSecond = expected == actual;
        Double nextProbabilityAtR = actual != shape.top1Index() ? current[actual] : null;
        Boolean neverPredicted = null;
        if (!nextIsSecond) {
            if (conventions.codeCompat()) {
                neverPredicted = !finalParsed.contains(Labels.nameAt(labels, expected));
            } else {
                boolean later = false;
                for (int j = i + 1; j < stepLabels.size(); j++) {
                    later |= stepLabels.get(j) == expected;
                }
                neverPredicted = !later;
            }
        }
        return new StepRanking(expected, current[expected], actual, nextIsSecond, nextProbabilityAtR,
                next[expected], shapes.get(i + 1).top1(), neverPredicted);
    }

    /** Alphabetical and instruction-order checks; null for fewer than two labels (order is meaningless). */
    public static OrderChecks orderChecks(List<String> labels, List<String> sequence) {
        if (sequence.size() < 2) {
            return null;
        }
        boolean alphabetical = true;
        boolean prompt = true;
        for (int k = 1; k < sequence.size(); k++) {
            alphabetical &= sequence.get(k - 1).compareTo(sequence.get(k)) <= 0;
            prompt &= labels.indexOf(sequence.get(k - 1)) < labels.indexOf(sequence.get(k));
        }
        return new OrderChecks(alphabetical, prompt);
    }
}

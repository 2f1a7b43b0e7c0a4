package io.labelscope.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.math.DocumentAnalysis.DocumentInput;
import io.labelscope.math.DocumentAnalysis.StepInput;
import io.labelscope.math.GenerationDynamics.StepRanking;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * SPEC §5 by hand. Labels [a, b, c]; arrays are [a, b, c, none]. Logits are logs of counts so that the step
 * softmax is the counts over their sum:
 * step 1 ln[6,2,1,1] → [.6,.2,.1,.1] generated a; step 2 ln[1,1,7,1] → [.1,.1,.7,.1] generated c;
 * step 3 ln[1,5,1,3] → [.1,.5,.1,.3] generated b.
 */
class GenerationDynamicsTest {

    private static final List<String> ABC = List.of("a", "b", "c");

    private static double[] lnCounts(double... counts) {
        double[] z = new double[counts.length];
        for (int i = 0; i < counts.length; i++) {
            z[i] = Math.log(counts[i]);
        }
        return z;
    }

    private static List<double[]> probs() {
        return List.of(StepSoftmax.probabilities(lnCounts(6, 2, 1, 1)),
                StepSoftmax.probabilities(lnCounts(1, 1, 7, 1)), StepSoftmax.probabilities(lnCounts(1, 5, 1, 3)));
    }

    @Test
    void topTwoAndEntropyOfAStep() {
        StepShape s = StepShape.of(new double[] {0.6, 0.2, 0.1, 0.1});
        assertThat(s.top1Label(ABC)).isEqualTo("a");
        assertThat(s.top1()).isEqualTo(0.6);
        assertThat(s.top2Label(ABC)).isEqualTo("b");
        // H = −(.6 ln .6 + .2 ln .2 + 2·.1 ln .1) = 0.30649537 + 0.32188758 + 0.46051702 = 1.08889997 nats
        double nats = -(0.6 * Math.log(0.6) + 0.2 * Math.log(0.2) + 0.2 * Math.log(0.1));
        assertThat(s.entropyNats()).isCloseTo(nats, within(1e-15));
        assertThat(s.entropyBits()).isCloseTo(nats / Math.log(2), within(1e-15));
        // tie on second place between a, b and none at .1: label order wins → a
        StepShape tie = StepShape.of(new double[] {0.1, 0.1, 0.7, 0.1});
        assertThat(tie.top2Label(ABC)).isEqualTo("a");
        StepShape noneTie = StepShape.of(new double[] {0.0, 0.2, 0.6, 0.2});
        assertThat(noneTie.top2Label(ABC)).isEqualTo("b");
    }

    @Test
    void rankingStatisticsPaperConventions() {
        GenerationDynamics.Result r = GenerationDynamics.analyse(ABC, probs(), List.of("a", "c", "b"),
                List.of("a", "c", "b"), Conventions.paper());
        // step 1: current a, expected b (.2), actual c → not second; r+1 pred = P_1(c) = .1;
        // intermediate @ r+1 = P_2(b) = .1; top of step 2 = .7; b is step 3's label → not "never predicted"
        StepRanking s1 = r.rankings().get(0);
        assertThat(Labels.nameAt(ABC, s1.secondIndex())).isEqualTo("b");
        assertThat(s1.secondProbability()).isCloseTo(0.2, within(1e-15));
        assertThat(Labels.nameAt(ABC, s1.nextIndex())).isEqualTo("c");
        assertThat(s1.nextIsSecond()).isFalse();
        assertThat(s1.nextProbabilityAtR()).isCloseTo(0.1, within(1e-15));
        assertThat(s1.secondProbabilityAtNext()).isCloseTo(0.1, within(1e-15));
        assertThat(s1.nextTopProbability()).isCloseTo(0.7, within(1e-15));
        assertThat(s1.secondNeverPredicted()).isFalse();
        // step 2: current c, expected = a (tie of .1 between a, b, none → label order), actual b;
        // r+1 pred = P_2(b) = .1; intermediate @ r+1 = P_3(a) = .1; top of step 3 = .5; a is no later label
        StepRanking s2 = r.rankings().get(1);
        assertThat(Labels.nameAt(ABC, s2.secondIndex())).isEqualTo("a");
        assertThat(Labels.nameAt(ABC, s2.nextIndex())).isEqualTo("b");
        assertThat(s2.nextProbabilityAtR()).isCloseTo(0.1, within(1e-15));
        assertThat(s2.secondProbabilityAtNext()).isCloseTo(0.1, within(1e-15));
        assertThat(s2.nextTopProbability()).isCloseTo(0.5, within(1e-15));
        assertThat(s2.secondNeverPredicted()).isTrue();
        assertThat(r.rankings().get(2)).isNull();
        assertThat(r.isLast(2)).isTrue();
        // sequence a, c, b: not alphabetical (c > b), not instruction order (c before b)
        assertThat(r.generationSequence()).containsExactly("a", "c", "b");
        assertThat(r.order().alphabetical()).isFalse();
        assertThat(r.order().promptOrder()).isFalse();
        assertThat(r.multilabelOutput()).isTrue();
    }

    @Test
    void codeCompatUsesTheFinalAnswerForNeverPredicted() {
        // compat=code: actual next = argmax P_{r+1} (c, then b: same as recorded here); "never predicted" =
        // absent from the final parsed labels: a is in [a, c, b] → false at step 2
        GenerationDynamics.Result r = GenerationDynamics.analyse(ABC, probs(), List.of("a", "c", "b"),
                List.of("a", "c", "b"), Conventions.code());
        assertThat(r.rankings().get(1).secondNeverPredicted()).isFalse();
    }

    @Test
    void unknownOrNullGeneratedLabelFallsBackToTheArgmax() {
        // step 2 says "purple" → its label is argmax P_2 = c; step 3 says null → argmax P_3 = b
        GenerationDynamics.Result r = GenerationDynamics.analyse(ABC, probs(), java.util.Arrays.asList("a",
                "purple", null), List.of(), Conventions.paper());
        assertThat(r.generationSequence()).containsExactly("a", "c", "b");
        assertThat(r.finalValidLabels()).isEmpty();
        assertThat(r.multilabelOutput()).isFalse();
    }

    @Test
    void repeatedLabelHasNoR1PredAndNoneIsNotInTheSequence() {
        // a then a again then none: the next label equals the current top → r+1 pred is null
        List<double[]> p = List.of(StepSoftmax.probabilities(lnCounts(6, 2, 1, 1)),
                StepSoftmax.probabilities(lnCounts(6, 2, 1, 1)), StepSoftmax.probabilities(lnCounts(1, 1, 1, 7)));
        GenerationDynamics.Result r = GenerationDynamics.analyse(ABC, p, List.of("a", "a", "none"),
                List.of("a", "a", "none"), Conventions.paper());
        assertThat(r.rankings().get(0).nextProbabilityAtR()).isNull();
        assertThat(r.generationSequence()).containsExactly("a");
        assertThat(r.order()).isNull();
    }

    @Test
    void documentWithoutStepsUsesTheFinalLabelsAndHasNoAlignmentWithoutAnnotators() {
        DocumentInput doc = new DocumentInput("d0", ABC, List.of(), List.of("c", "a", "c"), null, null, null,
                null);
        DocumentAnalysis.Report r = DocumentAnalysis.analyse(doc, Conventions.paper());
        assertThat(r.dynamics().generationSequence()).containsExactly("c", "a");
        assertThat(r.human()).isNull();
        assertThat(r.goldLabels()).isNull();
        assertThat(r.methods().get(Method.MAX_OVER_GENERATIONS).scores()).isNull();
        assertThat(r.methods().get(Method.COMPARE_TO_NONE).distribution()).containsExactly(0.5, 0.5, 0.5);
        assertThat(r.labelOrderCorrect()).isNull();
    }

    @Test
    void aStepWithoutEveryLogitIsATypedErrorNamingDocumentAndStep() {
        List<StepInput> steps = new ArrayList<>();
        steps.add(new StepInput(lnCounts(6, 2, 1, 1), "a"));
        steps.add(new StepInput(new double[] {1, 2, 3}, "b"));
        DocumentInput doc = new DocumentInput("doc-7", ABC, steps, List.of("a", "b"), null, null, null, null);
        assertThatThrownBy(() -> DocumentAnalysis.analyse(doc, Conventions.paper()))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("doc-7").hasMessageContaining("step 2")
                .satisfies(e -> assertThat(((InvalidInputException) e).step()).isEqualTo(2));
    }
}

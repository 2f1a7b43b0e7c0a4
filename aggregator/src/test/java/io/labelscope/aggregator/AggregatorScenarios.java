package io.labelscope.aggregator;

import static io.labelscope.aggregator.Records.LABELS;
import static io.labelscope.aggregator.Records.T0;
import static io.labelscope.aggregator.Records.sigmoidOfLn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.labelscope.schemas.AlignmentMetric;
import io.labelscope.schemas.DeadLetter;
import io.labelscope.schemas.DocumentDistribution;
import io.labelscope.schemas.MethodResult;
import io.labelscope.schemas.SpikinessMetric;
import io.labelscope.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/**
 * The scenarios of issue 6, each checked against numbers worked out by hand. Every scenario uses its own model
 * name, so its task/model metrics are its own even when scenarios share a running service.
 *
 * <p>The document used throughout (labels joy, fear, anger; counts over joy, fear, anger, none):
 * step 0 counts [6,2,1,1] → P0 = [.6,.2,.1,.1], writes joy; step 1 counts [1,7,1,1] → P1 = [.1,.7,.1,.1],
 * writes fear; the answer is [joy, fear].
 * <ul>
 *   <li>max over generations = [max(.6,.1), max(.2,.7), max(.1,.1)] = [.6, .7, .1]</li>
 *   <li>compare to none = σ(ln c_l − ln c_none) = c/(1+c) with c = 6, 2, 1 → [6/7, 2/3, 1/2]</li>
 *   <li>hard predictions = [1−1e-8, 1−1e-8, 1e-8]; first step = [.6, .2, .1]</li>
 * </ul>
 */
abstract class AggregatorScenarios {

    static final double EPS = 1e-8;
    static final double TOL = 1e-12;

    abstract Pipeline pipeline();

    // ---- inputs --------------------------------------------------------------------------------------------

    void send(String topic, String key, SpecificRecord value) {
        pipeline().send(topic, key, value, T0);
    }

    void step0(String model, String doc) {
        send(Topics.LABEL_STEPS, doc, Records.step(model, doc, 0, 2, "joy", 6, 2, 1, 1));
    }

    void step1(String model, String doc) {
        send(Topics.LABEL_STEPS, doc, Records.step(model, doc, 1, 2, "fear", 1, 7, 1, 1));
    }

    void generation(String model, String doc) {
        send(Topics.GENERATIONS, doc, Records.generation(model, doc, 2, T0, "joy", "fear"));
    }

    void annotate(String doc, String annotator, String... labels) {
        send(Topics.ANNOTATIONS, doc, Records.annotation(doc, annotator, labels));
    }

    // ---- expected numbers ----------------------------------------------------------------------------------

    /** NLL = −Σ [H ln p + (1−H) ln(1−p)] of max-over-generations p = [.6, .7, .1] against H. */
    static double maxNll(double hJoy, double hFear, double hAnger) {
        return -(hJoy * Math.log(0.6) + (1 - hJoy) * Math.log(0.4)
                + hFear * Math.log(0.7) + (1 - hFear) * Math.log(0.3)
                + hAnger * Math.log(0.1) + (1 - hAnger) * Math.log(0.9));
    }

    static void assertDist(MethodResult m, double... expected) {
        // Avro maps carry no order; the label order is the record's labels array.
        assertThat(m.getDistribution().keySet()).containsExactlyInAnyOrderElementsOf(LABELS);
        for (int i = 0; i < expected.length; i++) {
            assertThat(m.getDistribution().get(LABELS.get(i))).as(LABELS.get(i)).isCloseTo(expected[i], within(TOL));
        }
    }

    static void assertTheDocumentsMethods(DocumentDistribution d) {
        assertThat(d.getLabels()).containsExactlyElementsOf(LABELS);
        assertDist(d.getMethods().get("max_over_generations"), 0.6, 0.7, 0.1);
        assertThat(d.getMethods().get("max_over_generations").getPredicted()).containsExactly("joy", "fear");
        assertDist(d.getMethods().get("compare_to_none"), 6.0 / 7, 2.0 / 3, 0.5);
        assertThat(d.getMethods().get("compare_to_none").getPredicted()).containsExactly("joy", "fear", "anger");
        assertDist(d.getMethods().get("hard_predictions"), 1 - EPS, 1 - EPS, EPS);
        assertDist(d.getMethods().get("first_step"), 0.6, 0.2, 0.1);
    }

    static final List<String> ALL_METHODS = List.of("generate", "unary", "binary");
    static final Set<String> GENERATION_METHODS = Set.of("max_over_generations", "compare_to_none",
            "hard_predictions", "first_step");
    static final Set<String> BINARY_METHODS = Set.of("binary_breakdown", "binary_outcome");

    void unary(String model, String doc, List<String> methods) {
        send(Topics.UNARY_PROBES, doc, Records.unary(model, doc, methods));
    }

    void binary(String model, String doc, List<String> methods) {
        send(Topics.BINARY_PROBES, doc, Records.binary(model, doc, methods));
    }

    /** The unary breakdown of {@link Records#unary}: σ(z_r − z_u) = [3/4, 2/5, 1/5]. */
    static void assertUnary(MethodResult m) {
        assertDist(m, 0.75, 0.4, 0.2);
        assertThat(m.getPredicted()).containsExactly("joy");
    }

    /**
     * The binary breakdowns of {@link Records#binary}, checked by the optimality condition of SPEC §3 rather than
     * by a second solver: with d_l = logit(p_l) = s_l − s_none and Σ s = 0 (the pair terms of the gradient cancel
     * in the sum, so 2λ·Σ s = 0 at the optimum), the scores are fixed by the reported p; at the minimum of
     * Σ BCE(p_ab, σ(s_a − s_b)) + λ Σ s² every gradient entry is 0.
     */
    static void assertBradleyTerryOptimum(MethodResult m, boolean outcome) {
        int n = LABELS.size();
        double[] s = new double[n + 1];
        double sumD = 0;
        for (int i = 0; i < n; i++) {
            double p = m.getDistribution().get(LABELS.get(i));
            s[i] = Math.log(p / (1 - p));
            sumD += s[i];
        }
        double none = -sumD / (n + 1);
        for (int i = 0; i < n; i++) {
            s[i] += none;
        }
        s[n] = none;
        double lambda = 0.01;
        double[] g = new double[n + 1];
        for (int i = 0; i <= n; i++) {
            g[i] = 2 * lambda * s[i];
        }
        for (Object[] pair : Records.PAIRS) {
            int a = item((String) pair[0]);
            int b = item((String) pair[1]);
            double p = 1 / (1 + Math.exp(-((Double) pair[2] - (Double) pair[3])));
            if (outcome) {
                p = Math.rint(p);
            }
            double r = 1 / (1 + Math.exp(-(s[a] - s[b]))) - p;
            g[a] += r;
            g[b] -= r;
        }
        for (double gi : g) {
            assertThat(gi).isCloseTo(0.0, within(1e-9));
        }
    }

    private static int item(String name) {
        return "none".equals(name) ? LABELS.size() : LABELS.indexOf(name);
    }

    // ---- scenarios ----------------------------------------------------------------------------------------

    @Test
    void annotationsBeforeSteps() {
        String model = "m-annotations-first";
        String doc = "annotations-first";
        annotate(doc, "ann-1", "joy");
        annotate(doc, "ann-2", "joy", "fear");
        step0(model, doc);
        step1(model, doc);
        generation(model, doc);

        List<DocumentDistribution> out = pipeline().distributions(doc, 1);
        assertThat(out).hasSize(1);
        DocumentDistribution d = out.get(0);
        assertThat(d.getModel()).isEqualTo(model);
        assertThat(d.getVersion()).isEqualTo(1);
        assertTheDocumentsMethods(d);
        // H = [2/2, 1/2, 0/2]
        assertThat(d.getAnnotators()).isEqualTo(2);
        assertThat(d.getHuman()).isEqualTo(Map.of("joy", 1.0, "fear", 0.5, "anger", 0.0));
        MethodResult max = d.getMethods().get("max_over_generations");
        // NLL = −(ln .6 + .5 ln .7 + .5 ln .3 + ln .9) = 0.5108 + 0.7803 + 0.1054 = 1.3965
        assertThat(max.getNll()).isCloseTo(maxNll(1, 0.5, 0), within(TOL));
        assertThat(max.getNll()).isCloseTo(1.3965, within(1e-4));
        // L1 = .4 + .2 + .1 = .7; Ŷ = {joy, fear} = Y → F1 = 1
        assertThat(max.getL1()).isCloseTo(0.7, within(TOL));
        assertThat(max.getExampleF1()).isEqualTo(1.0);
        MethodResult none = d.getMethods().get("compare_to_none");
        // L1 = 1/7 + 1/6 + 1/2; Ŷ = {joy, fear, anger}, Y = {joy, fear} → F1 = 2·2/(3+2) = .8
        assertThat(none.getL1()).isCloseTo(1.0 / 7 + 1.0 / 6 + 0.5, within(TOL));
        assertThat(none.getExampleF1()).isCloseTo(0.8, within(TOL));
        assertThat(none.getNll()).isCloseTo(-(Math.log(6.0 / 7) + 0.5 * Math.log(2.0 / 3) + 0.5 * Math.log(1.0 / 3)
                + Math.log(0.5)), within(TOL));

        AlignmentMetric a = pipeline().alignment(model, "max_over_generations", m -> m.getDocuments() == 1);
        assertThat(a.getDocuments()).isEqualTo(1);
        assertThat(a.getMeanNll()).isCloseTo(maxNll(1, 0.5, 0), within(TOL));
        assertThat(a.getMeanL1()).isCloseTo(0.7, within(TOL));
        assertThat(a.getMeanExampleF1()).isCloseTo(1.0, within(TOL));

        // Spikiness. Step 0 (intermediate): top-1 .6, top-2 .2 (fear), entropy −Σp log2 p; the second-ranked
        // label (fear) is written next → rate 1; r+1 pred = P0(fear) = .2; intermediate @ r+1 = P1(fear) = .7.
        SpikinessMetric s0 = pipeline().spikiness(model, "intermediate", 0, m -> m.getTop1().getN() == 1);
        assertThat(s0.getTop1().getMean()).isCloseTo(0.6, within(TOL));
        assertThat(s0.getTop2().getMean()).isCloseTo(0.2, within(TOL));
        double bits = -(0.6 * Math.log(0.6) + 0.2 * Math.log(0.2) + 0.2 * Math.log(0.1)) / Math.log(2);
        assertThat(s0.getEntropyBits().getMean()).isCloseTo(bits, within(TOL));
        assertThat(s0.getTop1Histogram()).containsExactly(0L, 0L, 0L, 0L, 0L, 0L, 1L, 0L, 0L, 0L);
        assertThat(s0.getSecondPredictedNextRate()).isEqualTo(1.0);
        assertThat(s0.getR1Pred().getMean()).isCloseTo(0.2, within(TOL));
        assertThat(s0.getIntermediateAtR1().getMean()).isCloseTo(0.7, within(TOL));
        assertThat(s0.getSecondNeverPredictedRate()).isNull();
        SpikinessMetric s1 = pipeline().spikiness(model, "last", 1, m -> m.getTop1().getN() == 1);
        assertThat(s1.getTop1().getMean()).isCloseTo(0.7, within(TOL));
        assertThat(s1.getTop1Histogram().get(7)).isEqualTo(1L);
        // answer [joy, fear]: multi-label; fear < joy, so not alphabetical; joy before fear in the prompt
        SpikinessMetric answer = pipeline().spikiness(model, "answer", -1, m -> m.getAnswers() == 1);
        assertThat(answer.getMultilabelAnswerRate()).isEqualTo(1.0);
        assertThat(answer.getAlphabeticalOrderRate()).isEqualTo(0.0);
        assertThat(answer.getPromptOrderRate()).isEqualTo(1.0);
    }

    @Test
    void stepsOutOfOrderAndDuplicated() {
        String model = "m-out-of-order";
        String doc = "out-of-order";
        step1(model, doc);
        generation(model, doc);
        step1(model, doc);
        step0(model, doc);
        step0(model, doc); // after completion: changes nothing
        step1(model, doc);

        List<DocumentDistribution> out = pipeline().distributions(doc, 1);
        assertThat(out).hasSize(1);
        assertTheDocumentsMethods(out.get(0));
        assertThat(out.get(0).getHuman()).isNull();
        assertThat(out.get(0).getMethods().get("max_over_generations").getNll()).isNull();
        // The duplicates were not counted twice: one sample in each step cell.
        SpikinessMetric s0 = pipeline().spikiness(model, "intermediate", 0, m -> m.getTop1().getN() == 1);
        assertThat(s0.getTop1().getN()).isEqualTo(1);
        assertThat(s0.getTop1().getMean()).isCloseTo(0.6, within(TOL));
    }

    @Test
    void lateAndResentAnnotations() {
        String model = "m-late-annotations";
        String doc = "late-annotations";
        step0(model, doc);
        step1(model, doc);
        generation(model, doc);
        assertThat(pipeline().distributions(doc, 1).get(0).getHuman()).isNull();

        annotate(doc, "ann-1", "joy");                // H = [1, 0, 0]
        annotate(doc, "ann-2", "joy", "fear");        // H = [1, .5, 0]
        annotate(doc, "ann-2", "fear", "Joy ");       // the same vote again: no new version
        annotate(doc, "ann-2", "joy");                // replaces: H = [1, 0, 0] with 2 annotators

        List<DocumentDistribution> out = pipeline().distributions(doc, 4);
        assertThat(out).extracting(DocumentDistribution::getVersion).containsExactly(1L, 2L, 3L, 4L);
        assertThat(out).extracting(DocumentDistribution::getAnnotators).containsExactly(0, 1, 2, 2);
        MethodResult v2 = out.get(1).getMethods().get("max_over_generations");
        // H = [1,0,0]: NLL = −(ln .6 + ln .3 + ln .9); L1 = .4 + .7 + .1 = 1.2; Ŷ = {joy, fear}, Y = {joy} → 2/3
        assertThat(v2.getNll()).isCloseTo(-(Math.log(0.6) + Math.log(0.3) + Math.log(0.9)), within(TOL));
        assertThat(v2.getL1()).isCloseTo(1.2, within(TOL));
        assertThat(v2.getExampleF1()).isCloseTo(2.0 / 3, within(TOL));
        assertThat(out.get(2).getMethods().get("max_over_generations").getNll())
                .isCloseTo(maxNll(1, 0.5, 0), within(TOL));
        DocumentDistribution last = out.get(3);
        assertThat(last.getHuman()).isEqualTo(Map.of("joy", 1.0, "fear", 0.0, "anger", 0.0));
        assertThat(last.getMethods().get("max_over_generations").getNll()).isCloseTo(maxNll(1, 0, 0), within(TOL));

        // All-time: one document, with its current annotations only (old contributions subtracted).
        AlignmentMetric a = pipeline().alignment(model, "max_over_generations",
                m -> m.getMeanL1() != null && Math.abs(m.getMeanL1() - 1.2) < 1e-9);
        assertThat(a.getDocuments()).isEqualTo(1);
        assertThat(a.getMeanNll()).isCloseTo(maxNll(1, 0, 0), within(TOL));
        assertThat(a.getMeanL1()).isCloseTo(1.2, within(TOL));
        assertThat(a.getMeanExampleF1()).isCloseTo(2.0 / 3, within(TOL));
    }

    @Test
    void documentNeverAnnotated() {
        String model = "m-never-annotated";
        String doc = "never-annotated";
        step0(model, doc);
        step1(model, doc);
        generation(model, doc);
        DocumentDistribution d = pipeline().distributions(doc, 1).get(0);
        assertTheDocumentsMethods(d);
        assertThat(d.getAnnotators()).isZero();
        assertThat(d.getHuman()).isNull();
        for (MethodResult m : d.getMethods().values()) {
            assertThat(m.getNll()).isNull();
            assertThat(m.getL1()).isNull();
            assertThat(m.getExampleF1()).isNull();
        }
        AlignmentMetric a = pipeline().alignment(model, "compare_to_none", m -> true);
        assertThat(a.getDocuments()).isZero();
        assertThat(a.getMeanNll()).isNull();
    }

    @Test
    void documentWithNoLabelStep() {
        String model = "m-no-step";
        String doc = "no-step";
        annotate(doc, "ann-1");  // an annotator who chose no label: H = [0, 0, 0] over 1 annotator
        send(Topics.GENERATIONS, doc, Records.generation(model, doc, 0, T0));
        DocumentDistribution d = pipeline().distributions(doc, 1).get(0);
        // No step: max over generations ε everywhere, compare to none 0.5, hard ε, first step ε.
        assertDist(d.getMethods().get("max_over_generations"), EPS, EPS, EPS);
        assertDist(d.getMethods().get("compare_to_none"), 0.5, 0.5, 0.5);
        assertDist(d.getMethods().get("hard_predictions"), EPS, EPS, EPS);
        assertThat(d.getHuman()).isEqualTo(Map.of("joy", 0.0, "fear", 0.0, "anger", 0.0));
        // hard: NLL = −3 ln(1 − 1e-8) ≈ 3e-8; both sets empty → F1 = 1
        MethodResult hard = d.getMethods().get("hard_predictions");
        assertThat(hard.getNll()).isCloseTo(-3 * Math.log(1 - EPS), within(1e-15));
        assertThat(hard.getExampleF1()).isEqualTo(1.0);
        // compare to none predicts all three, gold is empty: F1 = 0; NLL = 3 ln 2
        assertThat(d.getMethods().get("compare_to_none").getExampleF1()).isEqualTo(0.0);
        assertThat(d.getMethods().get("compare_to_none").getNll()).isCloseTo(3 * Math.log(2), within(TOL));
        SpikinessMetric answer = pipeline().spikiness(model, "answer", -1, m -> m.getAnswers() == 1);
        assertThat(answer.getMultilabelAnswerRate()).isEqualTo(0.0);
        assertThat(answer.getAlphabeticalOrderRate()).isNull();
    }

    @Test
    void unknownLabelsAndMalformedRecordsGoToDeadLetters() {
        String model = "m-bad-input";
        String doc = "bad-input";
        annotate(doc, "ann-1", "joy", "happiness");  // checked once the label set is known
        annotate(doc, "ann-2", "fear");
        pipeline().sendRaw(Topics.LABEL_STEPS, doc, "not avro".getBytes(StandardCharsets.UTF_8));
        send(Topics.LABEL_STEPS, doc, Records.annotation(doc, "ann-9", "joy")); // valid Avro, wrong schema
        var badStep = Records.step(model, doc, 0, 2, "joy", 6, 2, 1, 1);
        badStep.getLogits().put("surprise", 3.0);   // a logit for a label not in the task
        send(Topics.LABEL_STEPS, doc, badStep);
        step0(model, doc);
        step1(model, doc);
        generation(model, doc);
        annotate(doc, "ann-3", "rage");              // unknown, label set already known

        List<DeadLetter> dead = pipeline().deadLetters(doc, 5);
        assertThat(dead).hasSize(5);
        Set<String> reasons = dead.stream().map(d -> d.getSourceTopic() + ":" + d.getErrorType())
                .collect(Collectors.toSet());
        assertThat(reasons).containsExactlyInAnyOrder("annotations:unknown_label", "label-steps:undecodable",
                "label-steps:wrong_record_type", "label-steps:unknown_label");
        assertThat(dead).filteredOn(d -> d.getErrorType().equals("wrong_record_type")).singleElement()
                .satisfies(d -> assertThat(d.getReason()).contains("Annotation").contains("LabelStep"));
        assertThat(dead).filteredOn(d -> d.getReason().contains("happiness")).singleElement()
                .satisfies(d -> assertThat(d.getValue()).isNotNull());
        assertThat(dead).filteredOn(d -> d.getReason().contains("surprise")).hasSize(1);
        assertThat(dead).filteredOn(d -> d.getReason().contains("rage")).hasSize(1);
        assertThat(dead).allSatisfy(d -> assertThat(d.getRejectedBy()).isEqualTo("aggregator"));

        // Nothing stalled: the document is emitted with the one valid annotation, H = [0, 1, 0].
        List<DocumentDistribution> out = pipeline().distributions(doc, 1);
        assertThat(out).hasSize(1);
        assertTheDocumentsMethods(out.get(0));
        assertThat(out.get(0).getAnnotators()).isEqualTo(1);
        assertThat(out.get(0).getHuman()).isEqualTo(Map.of("joy", 0.0, "fear", 1.0, "anger", 0.0));
        assertThat(out.get(0).getMethods().get("max_over_generations").getNll())
                .isCloseTo(maxNll(0, 1, 0), within(TOL));
    }

    // ---- annotations that do not fit their document (issue 13) ------------------------------------------------

    /** An annotation of {@code doc} for another task than the document's. */
    void annotateForTask(String doc, String task, String annotator, String... labels) {
        var a = Records.annotation(doc, annotator, labels);
        a.setTask(task);
        send(Topics.ANNOTATIONS, doc, a);
    }

    /**
     * An annotation whose task is not the document's is never counted: it is dead-lettered as
     * {@code task_mismatch} with both tasks named, whether it came after the document's steps (at once) or
     * before them (held until the first step fixes the task, dead-lettered then); an annotator's earlier valid
     * vote stays.
     */
    @Test
    void annotationsOfAnotherTaskGoToDeadLetters() {
        String model = "m-task-mismatch";
        String doc = "task-mismatch";
        annotateForTask(doc, "sentiment", "ann-early", "joy");   // before any step: held, checked at step 0
        annotate(doc, "ann-1", "joy");                            // H = [1, 0, 0]
        step0(model, doc);
        step1(model, doc);
        generation(model, doc);
        annotateForTask(doc, "sentiment", "ann-late", "fear");   // after the steps: at once
        annotateForTask(doc, "sentiment", "ann-1", "fear");      // a re-vote of another task: the first stays

        List<DeadLetter> dead = pipeline().deadLetters(doc, 3);
        assertThat(dead).hasSize(3).allSatisfy(d -> {
            assertThat(d.getSourceTopic()).isEqualTo(Topics.ANNOTATIONS);
            assertThat(d.getErrorType()).isEqualTo("task_mismatch");
            assertThat(d.getReason()).contains("'sentiment'", "'" + Records.TASK + "'", doc);
            assertThat(d.getValue()).isNotNull();
            assertThat(d.getRejectedBy()).isEqualTo("aggregator");
        });
        List<DocumentDistribution> out = pipeline().distributions(doc, 1);
        assertThat(out).as("no mismatched annotation re-emits or counts").hasSize(1);
        assertThat(out.get(0).getAnnotators()).isEqualTo(1);
        assertThat(out.get(0).getHuman()).isEqualTo(Map.of("joy", 1.0, "fear", 0.0, "anger", 0.0));
        assertThat(out.get(0).getMethods().get("max_over_generations").getNll())
                .isCloseTo(maxNll(1, 0, 0), within(TOL));
    }

    /**
     * The value's document_id is the truth: an annotation keyed by something else (a user's bug) or not keyed
     * at all counts toward the document it names; the aggregator moves it to that document's partition itself.
     * One that names no document is dead-lettered.
     */
    @Test
    void annotationsKeyedOtherwiseCountTowardTheirDocument() {
        String model = "m-keyed-otherwise";
        String doc = "keyed-otherwise";
        step0(model, doc);
        step1(model, doc);
        generation(model, doc);
        send(Topics.ANNOTATIONS, "not-" + doc, Records.annotation(doc, "ann-1", "joy"));
        send(Topics.ANNOTATIONS, null, Records.annotation(doc, "ann-2", "fear"));

        List<DocumentDistribution> out = pipeline().distributions(doc, 3);
        assertThat(out).extracting(DocumentDistribution::getAnnotators).containsExactly(0, 1, 2);
        assertThat(out.get(2).getHuman()).isEqualTo(Map.of("joy", 0.5, "fear", 0.5, "anger", 0.0));
        assertThat(pipeline().deadLetters("not-" + doc, 0)).isEmpty();

        send(Topics.ANNOTATIONS, "no-id-" + doc, Records.annotation("", "ann-3", "joy"));
        assertThat(pipeline().deadLetters("no-id-" + doc, 1)).singleElement().satisfies(d -> {
            assertThat(d.getErrorType()).isEqualTo("invalid");
            assertThat(d.getReason()).contains("without a document id");
        });
    }

    // ---- unary and binary breakdowns (issue 8) ---------------------------------------------------------------

    @Test
    void probesBeforeSteps() {
        String model = "m-probes-first";
        String doc = "probes-first";
        annotate(doc, "ann-1", "joy");
        annotate(doc, "ann-2", "joy", "fear");          // H = [1, .5, 0], Y = {joy, fear}
        unary(model, doc, ALL_METHODS);
        binary(model, doc, ALL_METHODS);
        step0(model, doc);
        step1(model, doc);
        assertThat(pipeline().distributions(doc, 0)).as("the generation is still missing").isEmpty();
        send(Topics.GENERATIONS, doc, Records.generation(model, doc, ALL_METHODS, 2, T0, "joy", "fear"));

        List<DocumentDistribution> out = pipeline().distributions(doc, 1);
        assertThat(out).hasSize(1);
        DocumentDistribution d = out.get(0);
        assertThat(d.getMethods().keySet()).containsExactlyInAnyOrder("max_over_generations", "compare_to_none",
                "hard_predictions", "first_step", "unary_breakdown", "binary_breakdown", "binary_outcome");
        assertTheDocumentsMethods(d);
        MethodResult unary = d.getMethods().get("unary_breakdown");
        assertUnary(unary);
        // NLL = −(ln .75 + .5 ln .4 + .5 ln .6 + ln .8); L1 = .25 + .1 + .2 = .55; Ŷ = {joy}, Y = {joy, fear} → 2/3
        double unaryNll = -(Math.log(0.75) + 0.5 * Math.log(0.4) + 0.5 * Math.log(0.6) + Math.log(0.8));
        assertThat(unary.getNll()).isCloseTo(unaryNll, within(TOL));
        assertThat(unary.getL1()).isCloseTo(0.55, within(TOL));
        assertThat(unary.getExampleF1()).isCloseTo(2.0 / 3, within(TOL));
        assertBradleyTerryOptimum(d.getMethods().get("binary_breakdown"), false);
        assertBradleyTerryOptimum(d.getMethods().get("binary_outcome"), true);
        // joy wins every comparison it is in: the highest score, above none.
        assertThat(d.getMethods().get("binary_outcome").getPredicted()).contains("joy");

        AlignmentMetric a = pipeline().alignment(model, "unary_breakdown", m -> m.getDocuments() == 1);
        assertThat(a.getMeanNll()).isCloseTo(unaryNll, within(TOL));
        assertThat(a.getMeanL1()).isCloseTo(0.55, within(TOL));
        assertThat(pipeline().alignment(model, "binary_outcome", m -> m.getDocuments() == 1).getDocuments())
                .isEqualTo(1);
    }

    @Test
    void probesAfterSteps() {
        String model = "m-probes-last";
        String doc = "probes-last";
        List<String> methods = List.of("generate", "unary");
        step0(model, doc);
        step1(model, doc);
        send(Topics.GENERATIONS, doc, Records.generation(model, doc, methods, 2, T0, "joy", "fear"));
        assertThat(pipeline().distributions(doc, 0)).as("the unary probes are still missing").isEmpty();
        unary(model, doc, methods);
        unary(model, doc, methods);                      // a duplicate: replaces, changes nothing

        List<DocumentDistribution> out = pipeline().distributions(doc, 1);
        assertThat(out).hasSize(1);
        assertThat(out.get(0).getMethods().keySet()).containsExactlyInAnyOrder("max_over_generations",
                "compare_to_none", "hard_predictions", "first_step", "unary_breakdown");
        assertTheDocumentsMethods(out.get(0));
        assertUnary(out.get(0).getMethods().get("unary_breakdown"));
        // Spikiness still comes from the generation: one sample per step cell.
        SpikinessMetric s0 = pipeline().spikiness(model, "intermediate", 0, m -> m.getTop1().getN() == 1);
        assertThat(s0.getTop1().getN()).isEqualTo(1);
    }

    @Test
    void runWithUnaryOnly() {
        String model = "m-unary-only";
        String doc = "unary-only";
        annotate(doc, "ann-1", "joy");                   // H = [1, 0, 0], Y = {joy}
        unary(model, doc, List.of("unary"));

        List<DocumentDistribution> out = pipeline().distributions(doc, 1);
        assertThat(out).hasSize(1);
        DocumentDistribution d = out.get(0);
        assertThat(d.getMethods().keySet()).containsExactly("unary_breakdown");
        assertUnary(d.getMethods().get("unary_breakdown"));
        // NLL = −(ln .75 + ln .6 + ln .8); L1 = .25 + .4 + .2 = .85; Ŷ = Y = {joy} → 1
        double nll = -(Math.log(0.75) + Math.log(0.6) + Math.log(0.8));
        assertThat(d.getMethods().get("unary_breakdown").getNll()).isCloseTo(nll, within(TOL));
        assertThat(d.getMethods().get("unary_breakdown").getL1()).isCloseTo(0.85, within(TOL));
        assertThat(d.getMethods().get("unary_breakdown").getExampleF1()).isEqualTo(1.0);
        AlignmentMetric a = pipeline().alignment(model, "unary_breakdown", m -> m.getDocuments() == 1);
        assertThat(a.getMeanNll()).isCloseTo(nll, within(TOL));

        annotate(doc, "ann-2", "fear");                  // H = [.5, .5, 0]: re-emitted, the mean follows
        out = pipeline().distributions(doc, 2);
        assertThat(out).hasSize(2);
        assertThat(out.get(1).getVersion()).isEqualTo(2);
        assertThat(out.get(1).getMethods().get("unary_breakdown").getL1()).isCloseTo(0.25 + 0.1 + 0.2, within(TOL));
        a = pipeline().alignment(model, "unary_breakdown",
                m -> m.getMeanL1() != null && Math.abs(m.getMeanL1() - 0.55) < 1e-9);
        assertThat(a.getDocuments()).isEqualTo(1);
        assertThat(a.getMeanL1()).isCloseTo(0.55, within(TOL));
    }

    @Test
    void malformedProbesGoToDeadLetters() {
        String model = "m-bad-probes";
        String doc = "bad-probes";
        List<String> methods = List.of("unary", "binary");
        var unknown = Records.unary(model, doc, methods);
        unknown.getProbes().put("surprise", new io.labelscope.schemas.UnaryLogits(1.0, 0.0));
        send(Topics.UNARY_PROBES, doc, unknown);
        var noNone = Records.unary(model, doc, methods);
        noNone.getProbes().remove("none");
        send(Topics.UNARY_PROBES, doc, noNone);
        var unknownPair = Records.binary(model, doc, methods);
        unknownPair.getPairs().set(0, new io.labelscope.schemas.PairLogits("joy", "rage", 1.0, 0.0));
        send(Topics.BINARY_PROBES, doc, unknownPair);
        var missingPair = Records.binary(model, doc, methods);
        missingPair.getPairs().remove(5);
        send(Topics.BINARY_PROBES, doc, missingPair);
        send(Topics.UNARY_PROBES, doc, Records.unary(model, doc, List.of("generate")));  // not its own method
        unary(model, doc, methods);
        binary(model, doc, methods);

        List<DeadLetter> dead = pipeline().deadLetters(doc, 5);
        assertThat(dead).extracting(x -> x.getSourceTopic() + ":" + x.getErrorType()).containsExactlyInAnyOrder(
                "unary-probes:unknown_label", "unary-probes:missing_probe", "binary-probes:unknown_label",
                "binary-probes:missing_pair", "unary-probes:invalid_methods");
        assertThat(dead).filteredOn(x -> x.getReason().contains("surprise")).hasSize(1);
        assertThat(dead).filteredOn(x -> x.getErrorType().equals("missing_probe")).singleElement()
                .satisfies(x -> assertThat(x.getReason()).contains("none"));
        assertThat(dead).filteredOn(x -> x.getErrorType().equals("missing_pair")).singleElement()
                .satisfies(x -> assertThat(x.getReason()).contains("{anger, none}"));
        assertThat(dead).allSatisfy(x -> assertThat(x.getValue()).isNotNull());

        // Nothing stalled: the valid probes complete the run.
        List<DocumentDistribution> out = pipeline().distributions(doc, 1);
        assertThat(out).hasSize(1);
        assertThat(out.get(0).getMethods().keySet()).containsExactlyInAnyOrder("unary_breakdown",
                "binary_breakdown", "binary_outcome");
        assertUnary(out.get(0).getMethods().get("unary_breakdown"));
        assertBradleyTerryOptimum(out.get(0).getMethods().get("binary_breakdown"), false);
    }

    // ---- paired comparison of two configurations (issue #17 item 3) ------------------------------------------

    /** The comparison scenario's own task, so that other scenarios' documents are not in its comparison. */
    static final String COMPARE_TASK = "emotions-compare";

    <T extends org.apache.avro.specific.SpecificRecordBase> T ofCompareTask(T record) {
        record.put("task", COMPARE_TASK);
        return record;
    }

    /** Configuration A: the scenarios' two-step document, max-over-generations [.6, .7, .1]. */
    void compareA(String doc) {
        String model = "m-compare-a";
        send(Topics.LABEL_STEPS, doc, ofCompareTask(Records.step(model, doc, 0, 2, "joy", 6, 2, 1, 1)));
        send(Topics.LABEL_STEPS, doc, ofCompareTask(Records.step(model, doc, 1, 2, "fear", 1, 7, 1, 1)));
        send(Topics.GENERATIONS, doc, ofCompareTask(Records.generation(model, doc, 2, T0, "joy", "fear")));
    }

    /** Configuration B: an answer without a label step, max-over-generations [ε, ε, ε]. */
    void compareB(String doc) {
        send(Topics.GENERATIONS, doc, ofCompareTask(Records.generation("m-compare-b", doc, 0, T0)));
    }

    void annotateForComparison(String doc, String annotator, String... labels) {
        send(Topics.ANNOTATIONS, doc, ofCompareTask(Records.annotation(doc, annotator, labels)));
    }

    /** NLL of B's [ε, ε, ε] against H. */
    static double epsilonNll(double hJoy, double hFear, double hAnger) {
        double sum = 0;
        for (double h : new double[] {hJoy, hFear, hAnger}) {
            sum -= h * Math.log(EPS) + (1 - h) * Math.log(1 - EPS);
        }
        return sum;
    }

    /** t(0.975, 1) (scipy 1.x), the quantile of a two-document interval. */
    static final double T_975_1 = 12.706204736174694;

    @SuppressWarnings("unchecked")
    static Map<String, Object> metric(Map<String, Object> compare, String method, String metric) {
        Map<String, Object> m = (Map<String, Object>) ((Map<String, Object>) compare.get("methods")).get(method);
        return m == null ? null : (Map<String, Object>) m.get(metric);
    }

    @SuppressWarnings("unchecked")
    static int documents(Map<String, Object> compare, String method) {
        Map<String, Object> m = (Map<String, Object>) ((Map<String, Object>) compare.get("methods")).get(method);
        return m == null ? 0 : ((Number) m.get("documents")).intValue();
    }

    static double number(Map<String, Object> m, String field) {
        return ((Number) m.get(field)).doubleValue();
    }

    /**
     * Paired comparison of A (model m-compare-a) and B (m-compare-b), max-over-generations, by hand. Documents:
     * c1 (H = [1, 0, 0]) and c2 (H = [1, 1, 0]) scored by both; c3 only by A and c4 by both without annotators
     * (neither is a pair). A = [.6, .7, .1], B = [ε, ε, ε] (ε = 1e-8).
     * <ul>
     *   <li>L1: A 1.2 and .8; B 1 + ε and 2 − ε → d = (.2 − ε, −1.2 + ε), mean −.5, interval
     *       −.5 ± t(0.975, 1)·|d1 − d2|/2 (n = 2: s/√n = |d1 − d2|/2);</li>
     *   <li>example-F1: A 2/3 and 1 ({joy, fear} against {joy}, {joy, fear}); B 0 (predicts nothing) → d = (2/3, 1);</li>
     *   <li>NLL: A's against B's, {@link #maxNll} − {@link #epsilonNll}.</li>
     * </ul>
     * Then c1's annotator re-votes [joy, fear]: c1 is now like c2, both differences equal, so the mean is c2's
     * and the interval has no width.
     */
    @Test
    void pairedComparisonOfTwoModels() {
        // c1 and c2 on different partitions of the 3 of the broker's topics (murmur2), so the broker's answer
        // is a sum over partitions
        assertThat(org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(
                "compare-1".getBytes(StandardCharsets.UTF_8))) % 3).isNotEqualTo(
                org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(
                        "compare-2".getBytes(StandardCharsets.UTF_8))) % 3);
        annotateForComparison("compare-1", "ann-1", "joy");
        compareA("compare-1");
        compareB("compare-1");
        compareA("compare-2");
        compareB("compare-2");
        annotateForComparison("compare-2", "ann-1", "joy", "fear");
        compareA("compare-3");
        annotateForComparison("compare-3", "ann-1", "anger");
        compareA("compare-4");
        compareB("compare-4");

        String mog = "max_over_generations";
        Map<String, Object> c = pipeline().compare(COMPARE_TASK, "m-compare-a", "m-compare-b", null,
                r -> metric(r, mog, "l1") != null && documents(r, mog) == 2
                        && r.get("configurations").toString().contains("documents=3"));
        assertThat(c.get("task")).isEqualTo(COMPARE_TASK);
        assertThat(c.get("a")).isEqualTo("m-compare-a");
        assertThat((Map<String, Object>) c.get("methods")).containsOnlyKeys(GENERATION_METHODS);
        assertThat(documents(c, mog)).as("c3 (A only) and c4 (no annotators) are not pairs").isEqualTo(2);
        // A has 3 annotated documents (c1, c2, c3), B 2
        assertThat((List<Map<String, Object>>) c.get("configurations"))
                .extracting(m -> m.get("configuration") + "=" + ((Number) m.get("documents")).intValue())
                .containsExactly("m-compare-a=3", "m-compare-b=2");

        double[] l1 = {1.2 - (1 + EPS), 0.8 - (2 - EPS)};
        assertPaired(metric(c, mog, "l1"), l1);
        assertPaired(metric(c, mog, "example_f1"), new double[] {2.0 / 3, 1});
        assertPaired(metric(c, mog, "nll"), new double[] {maxNll(1, 0, 0) - epsilonNll(1, 0, 0),
                maxNll(1, 1, 0) - epsilonNll(1, 1, 0)});
        assertThat(number(metric(c, mog, "l1"), "mean_difference")).isCloseTo(-0.5, within(TOL));

        // without A and B: the configurations only, to choose from
        Map<String, Object> listed = pipeline().compare(COMPARE_TASK, null, null, null, r -> true);
        assertThat((List<Map<String, Object>>) listed.get("configurations")).extracting(m -> m.get("configuration"))
                .containsExactly("m-compare-a", "m-compare-b");
        assertThat((Map<String, Object>) listed.get("methods")).isEmpty();

        // one method asked: only it
        Map<String, Object> one = pipeline().compare(COMPARE_TASK, "m-compare-a", "m-compare-b", mog,
                r -> metric(r, mog, "l1") != null);
        assertThat((Map<String, Object>) one.get("methods")).containsOnlyKeys(mog);

        // B − A is the mirror image
        Map<String, Object> mirrored = pipeline().compare(COMPARE_TASK, "m-compare-b", "m-compare-a", mog,
                r -> metric(r, mog, "l1") != null);
        assertThat(number(metric(mirrored, mog, "l1"), "mean_difference")).isCloseTo(0.5, within(TOL));

        // An annotation change re-emits both configurations' distributions of c1: the comparison follows.
        annotateForComparison("compare-1", "ann-1", "joy", "fear");
        double d2 = 0.8 - (2 - EPS);
        Map<String, Object> changed = pipeline().compare(COMPARE_TASK, "m-compare-a", "m-compare-b", mog,
                r -> metric(r, mog, "l1") != null
                        && Math.abs(number(metric(r, mog, "l1"), "mean_difference") - d2) < 1e-9);
        assertPaired(metric(changed, mog, "l1"), new double[] {d2, d2});
        assertThat(number(metric(changed, mog, "l1"), "ci95_low")).isCloseTo(d2, within(TOL));
        assertPaired(metric(changed, mog, "example_f1"), new double[] {1, 1});
    }

    /** Mean of two differences and their 95 % t interval, mean ± t(0.975, 1)·|d1 − d2|/2. */
    static void assertPaired(Map<String, Object> m, double[] d) {
        double mean = (d[0] + d[1]) / 2;
        double half = T_975_1 * Math.abs(d[0] - d[1]) / 2;
        assertThat(number(m, "mean_difference")).isCloseTo(mean, within(TOL));
        // the quantile from Commons Math agrees with the table to about 1e-10 relative
        assertThat(number(m, "ci95_low")).isCloseTo(mean - half, within(1e-9 * Math.max(1, half)));
        assertThat(number(m, "ci95_high")).isCloseTo(mean + half, within(1e-9 * Math.max(1, half)));
    }
}

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

    /**
     * Issue #15 item 6: one model, the same document under two task versions (two prompts, so two run ids). A
     * configuration is (model, task version): each version gets its own distribution and its own metric rows
     * with its own numbers, never a merge of both. H = [1, .5, 0] (two annotators).
     * <ul>
     *   <li>version A: the document of this class: max over generations [.6, .7, .1] → NLL maxNll(1, .5, 0),
     *       L1 .7, F1 1</li>
     *   <li>version B: one step, counts [1,1,7,1] → P = [.1, .1, .7, .1], writes anger; max over generations
     *       [.1, .1, .7] → NLL = −(ln .1 + .5 ln .1 + .5 ln .9 + ln .3), L1 = .9 + .4 + .7 = 2, Ŷ = {anger},
     *       Y = {joy, fear} → F1 0</li>
     * </ul>
     */
    @Test
    void twoTaskVersionsOnTheSameDocumentKeepTheirOwnDistributionsAndMetrics() {
        String model = "m-two-versions";
        String doc = "two-versions";
        String a = "a1b2c3d4e5f6";
        String b = "0f9e8d7c6b5a";
        annotate(doc, "ann-1", "joy");
        annotate(doc, "ann-2", "joy", "fear");
        send(Topics.LABEL_STEPS, doc, versioned(Records.step(model, doc, 0, 2, "joy", 6, 2, 1, 1), a));
        send(Topics.LABEL_STEPS, doc, versioned(Records.step(model, doc, 1, 2, "fear", 1, 7, 1, 1), a));
        send(Topics.GENERATIONS, doc, versioned(Records.generation(model, doc, 2, T0, "joy", "fear"), a));
        send(Topics.LABEL_STEPS, doc, versioned(Records.step(model, doc, 0, 1, "anger", 1, 1, 7, 1), b));
        send(Topics.GENERATIONS, doc, versioned(Records.generation(model, doc, 1, T0, "anger"), b));

        List<DocumentDistribution> out = pipeline().distributions(doc, 2);
        Map<String, DocumentDistribution> byVersion = out.stream().collect(Collectors.toMap(
                DocumentDistribution::getTaskVersion, d -> d, (x, y) -> y));
        assertThat(byVersion).containsOnlyKeys(a, b);
        assertThat(byVersion.get(a).getRunId()).isEqualTo("run-" + a);
        assertTheDocumentsMethods(byVersion.get(a));
        assertDist(byVersion.get(b).getMethods().get("max_over_generations"), 0.1, 0.1, 0.7);
        assertThat(byVersion.get(b).getAnnotators()).isEqualTo(2);

        double nllB = -(Math.log(0.1) + 0.5 * Math.log(0.1) + 0.5 * Math.log(0.9) + Math.log(0.3));
        AlignmentMetric alignA = pipeline().alignment(model, a, "max_over_generations", m -> m.getDocuments() == 1);
        AlignmentMetric alignB = pipeline().alignment(model, b, "max_over_generations", m -> m.getDocuments() == 1);
        assertThat(alignA.getDocuments()).isEqualTo(1);
        assertThat(alignA.getMeanNll()).isCloseTo(maxNll(1, 0.5, 0), within(TOL));
        assertThat(alignA.getMeanL1()).isCloseTo(0.7, within(TOL));
        assertThat(alignA.getMeanExampleF1()).isCloseTo(1.0, within(TOL));
        assertThat(alignB.getDocuments()).isEqualTo(1);
        assertThat(alignB.getMeanNll()).isCloseTo(nllB, within(TOL));
        assertThat(alignB.getMeanL1()).isCloseTo(2.0, within(TOL));
        assertThat(alignB.getMeanExampleF1()).isCloseTo(0.0, within(TOL));
        assertThat(List.of(alignA, alignB)).allSatisfy(m -> assertThat(m.getModel()).isEqualTo(model));

        // Spikiness per version too: A's step 0 is intermediate (top-1 .6), B's only step is its last (top-1 .7);
        // B has no intermediate step 0 and A's last step is step 1.
        assertThat(pipeline().spikiness(model, a, "intermediate", 0, m -> m.getTop1().getN() == 1).getTop1()
                .getMean()).isCloseTo(0.6, within(TOL));
        SpikinessMetric lastB = pipeline().spikiness(model, b, "last", 0, m -> m.getTop1().getN() == 1);
        assertThat(lastB.getTop1().getN()).isEqualTo(1);
        assertThat(lastB.getTop1().getMean()).isCloseTo(0.7, within(TOL));
        assertThat(pipeline().spikiness(model, a, "answer", -1, m -> m.getAnswers() == 1).getMultilabelAnswerRate())
                .isEqualTo(1.0);
        assertThat(pipeline().spikiness(model, b, "answer", -1, m -> m.getAnswers() == 1).getMultilabelAnswerRate())
                .isEqualTo(0.0);
    }

    /** A worker record of another task version: its run id is another one too, as the worker's would be. */
    static <T extends SpecificRecord> T versioned(T record, String taskVersion) {
        record.put(record.getSchema().getField("task_version").pos(), taskVersion);
        record.put(record.getSchema().getField("run_id").pos(), "run-" + taskVersion);
        return record;
    }
}

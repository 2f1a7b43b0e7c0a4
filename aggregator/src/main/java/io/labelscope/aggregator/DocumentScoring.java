package io.labelscope.aggregator;

import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.AlignmentTally;
import io.labelscope.aggregator.metrics.CalibrationTallies;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.metrics.SpikinessTally;
import io.labelscope.aggregator.state.AnnotationEntry;
import io.labelscope.aggregator.state.BinaryEntry;
import io.labelscope.aggregator.state.DistributionView;
import io.labelscope.aggregator.state.DocumentState;
import io.labelscope.aggregator.state.Emitted;
import io.labelscope.aggregator.state.MethodView;
import io.labelscope.aggregator.state.RunState;
import io.labelscope.aggregator.state.StepEntry;
import io.labelscope.math.BinaryBreakdown;
import io.labelscope.math.Conventions;
import io.labelscope.math.DocumentAnalysis;
import io.labelscope.math.GenerationDynamics;
import io.labelscope.math.InvalidInputException;
import io.labelscope.math.Labels;
import io.labelscope.math.Method;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Scoring, a pure function of a document's state: a complete run's distribution (paper-math's
 * {@link DocumentAnalysis} on the run's records and the document's annotations) with its share of the task/model
 * metrics ({@link #score}), and the metric changes from what the run contributed before ({@link #changes}). No
 * Kafka Streams here: {@link DocumentAssembler} keeps the state and sends what this returns.
 */
final class DocumentScoring {

    /** The distributions that come from the generate method (steps and answer). */
    private static final Set<Method> GENERATION_METHODS = EnumSet.of(Method.MAX_OVER_GENERATIONS,
            Method.COMPARE_TO_NONE, Method.HARD_PREDICTIONS, Method.FIRST_STEP);

    private DocumentScoring() {
    }

    /**
     * A complete run scored: what the run now contributes ({@link Emitted}: its distribution, stamped
     * {@code now} with the next version, and its share of the metrics at the run's time).
     *
     * @throws InvalidInputException when paper-math refuses the run's records (checked input never is)
     */
    static Emitted score(DocumentState state, RunState run, Conventions conventions, long now)
            throws InvalidInputException {
        DocumentAnalysis.Report report = DocumentAnalysis.analyse(input(state, run), conventions);
        long version = run.emitted == null ? 1 : run.emitted.distribution().version() + 1;
        Map<Method, DocumentAnalysis.MethodResult> methods = methodsOf(run, report);
        DistributionView view = view(state, run, report, methods, now, version);
        // Spikiness is about the generation steps: nothing from a run that did not generate.
        SpikinessTallies spikiness = run.has(RunState.GENERATE) ? spikiness(report) : SpikinessTallies.empty();
        return new Emitted(run.time(), view, alignment(methods), spikiness);
    }

    /**
     * Whether a new score says nothing new (a duplicate record): same time, same distribution content, same
     * spikiness. Then there is no new version and no metric change.
     */
    static boolean unchanged(Emitted old, Emitted scored) {
        return old != null && old.generationTime() == scored.generationTime()
                && sameContent(old.distribution(), scored.distribution()) && old.spikiness().equals(scored.spikiness());
    }

    /**
     * The changes to the task/model metrics from the run's previous contribution ({@code old}, null for its first)
     * to {@code scored}, each stamped with the generation time whose windows it belongs to: the previous share is
     * subtracted and the new one added, so the all-time metrics count each document once with its current
     * annotations. A part with nothing to say is null; a first contribution carries its alignment even when all
     * zeros (no annotators yet), which makes the task/model and its methods visible with 0 documents.
     */
    static List<Assembled.PendingChange> changes(Emitted old, Emitted scored) {
        long time = scored.generationTime();
        List<Assembled.PendingChange> changes = new ArrayList<>(2);
        if (old == null) {
            add(changes, scored.alignment(), scored.spikiness(), calibration(scored), time, true);
        } else if (old.generationTime() == time) {
            add(changes, AlignmentTallies.change(old.alignment(), scored.alignment()),
                    old.spikiness().equals(scored.spikiness()) ? SpikinessTallies.empty()
                            : old.spikiness().negate().plus(scored.spikiness()),
                    CalibrationTallies.change(calibration(old), calibration(scored)), time, false);
        } else {
            // A re-sent generation with another time: take the old contribution out of the windows it was in.
            add(changes, old.alignment().negate(), old.spikiness().negate(), calibration(old).negate(),
                    old.generationTime(), false);
            add(changes, scored.alignment(), scored.spikiness(), calibration(scored), time, true);
        }
        return changes;
    }

    private static void add(List<Assembled.PendingChange> changes, AlignmentTallies alignment,
                            SpikinessTallies spikiness, CalibrationTallies calibration, long time, boolean first) {
        boolean sendAlignment = first || alignment.byMethod().values().stream().anyMatch(t -> !t.isEmpty());
        boolean sendCalibration = first || !calibration.isZero();
        if (sendAlignment || !spikiness.isEmpty() || sendCalibration) {
            changes.add(new Assembled.PendingChange(time, new Assembled.MetricsChange(
                    sendAlignment ? alignment : null, spikiness.isEmpty() ? null : spikiness,
                    sendCalibration ? calibration : null)));
        }
    }

    /**
     * A contribution's reliability-diagram pairs, from its distribution as published: derived, not kept in the
     * document's state, so the previous contribution is exactly what its emitted distribution says.
     */
    private static CalibrationTallies calibration(Emitted emitted) {
        DistributionView d = emitted.distribution();
        Map<String, Map<String, Double>> byMethod = new LinkedHashMap<>();
        d.methods().forEach((method, m) -> byMethod.put(method, m.distribution()));
        return CalibrationTallies.ofDocument(d.labels(), d.annotators() == 0 ? null : d.human(), byMethod);
    }

    private static boolean sameContent(DistributionView a, DistributionView b) {
        return a.labels().equals(b.labels()) && a.annotators() == b.annotators()
                && Objects.equals(a.human(), b.human()) && a.methods().equals(b.methods());
    }

    /** The run's inputs of the methods it has (a run without generate has no steps and no answer). */
    private static DocumentAnalysis.DocumentInput input(DocumentState state, RunState run) {
        List<String> labels = state.labels;
        List<DocumentAnalysis.StepInput> steps = new ArrayList<>();
        List<String> answer = List.of();
        if (run.has(RunState.GENERATE)) {
            for (int i = 0; i < run.generation.stepsTotal(); i++) {
                StepEntry s = run.steps.get(i);
                double[] z = new double[labels.size() + 1];
                for (int k = 0; k <= labels.size(); k++) {
                    z[k] = s.logits().get(Labels.nameAt(labels, k));
                }
                steps.add(new DocumentAnalysis.StepInput(z, s.generated()));
            }
            answer = run.generation.parsedLabels();
        }
        DocumentAnalysis.UnaryInput unary = null;
        if (run.has(RunState.UNARY)) {
            // The breakdown is over the labels; the none probe (last) is kept in the state but not used.
            unary = new DocumentAnalysis.UnaryInput(Arrays.copyOf(run.unary.reasonable(), labels.size()),
                    Arrays.copyOf(run.unary.unreasonable(), labels.size()));
        }
        List<BinaryBreakdown.PairLogits> binary = null;
        if (run.has(RunState.BINARY)) {
            binary = new ArrayList<>();
            for (BinaryEntry.Pair p : run.binary.pairs()) {
                binary.add(new BinaryBreakdown.PairLogits(p.a(), p.b(), p.logitA(), p.logitB()));
            }
        }
        List<List<String>> annotators = new ArrayList<>();
        for (AnnotationEntry a : state.annotations.values()) {
            annotators.add(a.labels());
        }
        return new DocumentAnalysis.DocumentInput(state.documentId, labels, steps, answer, annotators, null, unary,
                binary);
    }

    /**
     * The report's methods this run has: paper-math always computes the four generation methods (from no steps
     * when there are none), but a run that did not generate has no such distributions to show or score.
     */
    private static Map<Method, DocumentAnalysis.MethodResult> methodsOf(RunState run, DocumentAnalysis.Report report) {
        Map<Method, DocumentAnalysis.MethodResult> methods = new EnumMap<>(report.methods());
        if (!run.has(RunState.GENERATE)) {
            methods.keySet().removeAll(GENERATION_METHODS);
        }
        return methods;
    }

    private static DistributionView view(DocumentState state, RunState run, DocumentAnalysis.Report report,
                                         Map<Method, DocumentAnalysis.MethodResult> results, long now,
                                         long version) {
        Map<String, MethodView> methods = new LinkedHashMap<>();
        for (Map.Entry<Method, DocumentAnalysis.MethodResult> e : results.entrySet()) {
            DocumentAnalysis.MethodResult m = e.getValue();
            methods.put(e.getKey().wireName(), new MethodView(labelMap(state.labels, m.distribution()),
                    m.predictedLabels(), m.scores() == null ? null : m.scores().nll(),
                    m.scores() == null ? null : m.scores().l1(),
                    m.scores() == null ? null : m.scores().exampleF1()));
        }
        return new DistributionView(state.documentId, state.task, run.model, run.runId, state.labels,
                report.human() == null ? null : labelMap(state.labels, report.human()), report.annotatorCount(),
                methods, now, version);
    }

    private static Map<String, Double> labelMap(List<String> labels, double[] values) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            m.put(labels.get(i), values[i]);
        }
        return m;
    }

    /** This document's contribution to the alignment means: its scores per method (nothing without annotators). */
    private static AlignmentTallies alignment(Map<Method, DocumentAnalysis.MethodResult> methods) {
        Map<String, AlignmentTally> byMethod = new TreeMap<>();
        methods.forEach((method, result) -> byMethod.put(method.wireName(),
                AlignmentTally.of(result.scores())));
        return new AlignmentTallies(byMethod);
    }

    /** This answer's contribution to the spikiness statistics: one sample per step cell plus the answer cell. */
    private static SpikinessTallies spikiness(DocumentAnalysis.Report report) {
        GenerationDynamics.Result dyn = report.dynamics();
        Map<String, SpikinessTally> cells = new TreeMap<>();
        for (int i = 0; i < dyn.stepCount(); i++) {
            cells.merge(SpikinessTallies.stepCell(dyn.isLast(i), i),
                    SpikinessTally.ofStep(dyn.shapes().get(i), dyn.rankings().get(i)), SpikinessTally::plus);
        }
        SpikinessTally answer = SpikinessTally.ofAnswer(dyn.multilabelOutput(), dyn.order());
        cells.put(SpikinessTallies.ANSWER_CELL, answer);
        return new SpikinessTallies(cells);
    }
}

package io.labelscope.aggregator.document;

import io.labelscope.aggregator.metrics.MetricStateRecords;

import io.labelscope.aggregator.avro.AnnotationStateRecord;
import io.labelscope.aggregator.avro.DistributionStateRecord;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.EmittedRecord;
import io.labelscope.aggregator.avro.MethodStateRecord;
import io.labelscope.aggregator.avro.NamedDoublesRecord;
import io.labelscope.aggregator.avro.PairRecord;
import io.labelscope.aggregator.avro.RunRecord;
import io.labelscope.aggregator.avro.StepRecord;
import io.labelscope.aggregator.metrics.AlignmentTallies;
import io.labelscope.aggregator.metrics.AlignmentTally;
import io.labelscope.aggregator.metrics.SpikinessTallies;
import io.labelscope.aggregator.metrics.SpikinessTally;
import io.labelscope.math.BinaryBreakdown;
import io.labelscope.math.Conventions;
import io.labelscope.math.DocumentAnalysis;
import io.labelscope.math.GenerationDynamics;
import io.labelscope.math.InvalidInputException;
import io.labelscope.math.Method;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
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
public final class DocumentScoring {

    /** The distributions that come from the generate method (steps and answer). */
    private static final Set<Method> GENERATION_METHODS = EnumSet.of(Method.MAX_OVER_GENERATIONS,
            Method.COMPARE_TO_NONE, Method.HARD_PREDICTIONS, Method.FIRST_STEP);

    private DocumentScoring() {
    }

    /**
     * A complete run scored: what the run now contributes ({@link EmittedRecord}: its distribution, stamped
     * {@code now} with the next version, and its share of the metrics at the run's time).
     *
     * @throws InvalidInputException when paper-math refuses the run's records (checked input never is)
     */
    public static EmittedRecord score(DocumentStateRecord state, RunRecord run, Conventions conventions, long now)
            throws InvalidInputException {
        DocumentAnalysis.Report report = DocumentAnalysis.analyse(input(state, run), conventions);
        long version = run.getEmitted() == null ? 1 : run.getEmitted().getDistribution().getVersion() + 1;
        Map<Method, DocumentAnalysis.MethodResult> methods = methodsOf(run, report);
        DistributionStateRecord distribution = distribution(state, run, report, methods, now, version);
        // Spikiness is about the generation steps: nothing from a run that did not generate.
        SpikinessTallies spikiness = DocumentStates.has(run, DocumentStates.GENERATE) ? spikiness(report)
                : SpikinessTallies.empty();
        return new EmittedRecord(DocumentStates.time(run), distribution,
                MetricStateRecords.alignment(alignment(methods)), MetricStateRecords.spikiness(spikiness));
    }

    /**
     * Whether a new score says nothing new (a duplicate record): same time, same distribution content, same
     * spikiness. Then there is no new version and no metric change.
     */
    public static boolean unchanged(EmittedRecord old, EmittedRecord scored) {
        return old != null && old.getGenerationTime() == scored.getGenerationTime()
                && sameContent(old.getDistribution(), scored.getDistribution())
                && MetricStateRecords.spikiness(old.getSpikiness())
                        .equals(MetricStateRecords.spikiness(scored.getSpikiness()));
    }

    /**
     * The changes to the task/model metrics from the run's previous contribution ({@code old}, null for its first)
     * to {@code scored}, each stamped with the generation time whose windows it belongs to: the previous share is
     * subtracted and the new one added, so the all-time metrics count each document once with its current
     * annotations. A part with nothing to say is null; a first contribution carries its alignment even when all
     * zeros (no annotators yet), which makes the task/model and its methods visible with 0 documents.
     */
    public static List<Assembled.PendingChange> changes(EmittedRecord old, EmittedRecord scored) {
        long time = scored.getGenerationTime();
        AlignmentTallies alignment = MetricStateRecords.alignment(scored.getAlignment());
        SpikinessTallies spikiness = MetricStateRecords.spikiness(scored.getSpikiness());
        List<Assembled.PendingChange> changes = new ArrayList<>(2);
        if (old == null) {
            add(changes, alignment, spikiness, time, true);
            return changes;
        }
        AlignmentTallies oldAlignment = MetricStateRecords.alignment(old.getAlignment());
        SpikinessTallies oldSpikiness = MetricStateRecords.spikiness(old.getSpikiness());
        if (old.getGenerationTime() == time) {
            add(changes, AlignmentTallies.change(oldAlignment, alignment),
                    oldSpikiness.equals(spikiness) ? SpikinessTallies.empty()
                            : oldSpikiness.negate().plus(spikiness), time, false);
        } else {
            // A re-sent generation with another time: take the old contribution out of the windows it was in.
            add(changes, oldAlignment.negate(), oldSpikiness.negate(), old.getGenerationTime(), false);
            add(changes, alignment, spikiness, time, true);
        }
        return changes;
    }

    private static void add(List<Assembled.PendingChange> changes, AlignmentTallies alignment,
                            SpikinessTallies spikiness, long time, boolean first) {
        boolean sendAlignment = first || alignment.byMethod().values().stream().anyMatch(t -> !t.isEmpty());
        if (sendAlignment || !spikiness.isEmpty()) {
            changes.add(new Assembled.PendingChange(time, new Assembled.MetricsChange(
                    sendAlignment ? alignment : null, spikiness.isEmpty() ? null : spikiness)));
        }
    }

    private static boolean sameContent(DistributionStateRecord a, DistributionStateRecord b) {
        return a.getLabels().equals(b.getLabels()) && a.getAnnotators() == b.getAnnotators()
                && Objects.equals(a.getHuman(), b.getHuman()) && a.getMethods().equals(b.getMethods());
    }

    /** The run's inputs of the methods it has (a run without generate has no steps and no answer). */
    private static DocumentAnalysis.DocumentInput input(DocumentStateRecord state, RunRecord run) {
        List<String> labels = state.getLabels();
        List<DocumentAnalysis.StepInput> steps = new ArrayList<>();
        List<String> answer = List.of();
        if (DocumentStates.has(run, DocumentStates.GENERATE)) {
            List<String> labelsAndNone = NamedDoubles.withNone(labels);
            for (int i = 0; i < run.getGeneration().getStepsTotal(); i++) {
                StepRecord s = DocumentStates.step(run, i);
                steps.add(new DocumentAnalysis.StepInput(NamedDoubles.over(s.getLogits(), labelsAndNone),
                        s.getGeneratedLabel()));
            }
            answer = run.getGeneration().getParsedLabels();
        }
        DocumentAnalysis.UnaryInput unary = null;
        if (DocumentStates.has(run, DocumentStates.UNARY)) {
            // The breakdown is over the labels; the none probe (last) is kept in the state but not used.
            unary = new DocumentAnalysis.UnaryInput(doubles(run.getUnary().getReasonable(), labels.size()),
                    doubles(run.getUnary().getUnreasonable(), labels.size()));
        }
        List<BinaryBreakdown.PairLogits> binary = null;
        if (DocumentStates.has(run, DocumentStates.BINARY)) {
            binary = new ArrayList<>();
            for (PairRecord p : run.getBinary().getPairs()) {
                binary.add(new BinaryBreakdown.PairLogits(p.getA(), p.getB(), p.getLogitA(), p.getLogitB()));
            }
        }
        List<List<String>> annotators = new ArrayList<>();
        for (AnnotationStateRecord a : state.getAnnotations()) {
            annotators.add(a.getLabels());
        }
        return new DocumentAnalysis.DocumentInput(state.getDocumentId(), labels, steps, answer, annotators, null,
                unary, binary);
    }

    /** The first {@code n} values. */
    private static double[] doubles(List<Double> values, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    /**
     * The report's methods this run has: paper-math always computes the four generation methods (from no steps
     * when there are none), but a run that did not generate has no such distributions to show or score.
     */
    private static Map<Method, DocumentAnalysis.MethodResult> methodsOf(RunRecord run,
                                                                        DocumentAnalysis.Report report) {
        Map<Method, DocumentAnalysis.MethodResult> methods = new EnumMap<>(report.methods());
        if (!DocumentStates.has(run, DocumentStates.GENERATE)) {
            methods.keySet().removeAll(GENERATION_METHODS);
        }
        return methods;
    }

    private static DistributionStateRecord distribution(DocumentStateRecord state, RunRecord run,
                                                        DocumentAnalysis.Report report,
                                                        Map<Method, DocumentAnalysis.MethodResult> results,
                                                        long now, long version) {
        List<MethodStateRecord> methods = new ArrayList<>(results.size());
        for (Map.Entry<Method, DocumentAnalysis.MethodResult> e : results.entrySet()) {
            DocumentAnalysis.MethodResult m = e.getValue();
            methods.add(new MethodStateRecord(e.getKey().wireName(), overLabels(state, m.distribution()),
                    m.predictedLabels(), m.scores() == null ? null : m.scores().nll(),
                    m.scores() == null ? null : m.scores().l1(),
                    m.scores() == null ? null : m.scores().exampleF1()));
        }
        return new DistributionStateRecord(state.getDocumentId(), state.getTask(), run.getModel(), run.getRunId(),
                state.getLabels(), report.human() == null ? null : overLabels(state, report.human()),
                report.annotatorCount(), methods, now, version, run.getTaskVersion());
    }

    /** The first values, one per label (paper-math's vectors over the labels). */
    private static NamedDoublesRecord overLabels(DocumentStateRecord state, double[] values) {
        return NamedDoubles.of(Arrays.copyOf(values, state.getLabels().size()));
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

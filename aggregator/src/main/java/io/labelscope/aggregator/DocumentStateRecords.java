package io.labelscope.aggregator;

import io.labelscope.aggregator.avro.AnnotationStateRecord;
import io.labelscope.aggregator.avro.BinaryStateRecord;
import io.labelscope.aggregator.avro.DistributionStateRecord;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.EmittedRecord;
import io.labelscope.aggregator.avro.GenerationStateRecord;
import io.labelscope.aggregator.avro.MethodStateRecord;
import io.labelscope.aggregator.avro.NamedDoublesRecord;
import io.labelscope.aggregator.avro.PairRecord;
import io.labelscope.aggregator.avro.RunRecord;
import io.labelscope.aggregator.avro.StepRecord;
import io.labelscope.aggregator.avro.UnaryStateRecord;
import io.labelscope.aggregator.calibration.CalibrationRecords;
import io.labelscope.aggregator.state.AnnotationEntry;
import io.labelscope.aggregator.state.BinaryEntry;
import io.labelscope.aggregator.state.DistributionView;
import io.labelscope.aggregator.state.DocumentState;
import io.labelscope.aggregator.state.Emitted;
import io.labelscope.aggregator.state.GenerationEntry;
import io.labelscope.aggregator.state.MethodView;
import io.labelscope.aggregator.state.RunState;
import io.labelscope.aggregator.state.StepEntry;
import io.labelscope.aggregator.state.UnaryEntry;
import io.labelscope.math.Labels;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A document's state ({@link DocumentState}, store {@code documents}) as the Avro record of
 * {@code src/main/avro/DocumentStateRecord.avsc} that {@link InternalAvroSerde} writes, and back. Field by field,
 * by name; what each field means is said in the {@code state} classes and the schema's docs.
 *
 * <p>Every input record reads and rewrites its document's state, so this is on the hot path: maps over the
 * document's labels (step logits, distributions) are written as their values in label order, without the names
 * ({@link NamedDoublesRecord}), and are read back in that order (the JSON views list them so).
 */
final class DocumentStateRecords {

    private DocumentStateRecords() {
    }

    static DocumentStateRecord record(DocumentState s) {
        List<String> labelsAndNone = withNone(s.labels);
        List<RunRecord> runs = new ArrayList<>(s.runs.size());
        for (RunState run : s.runs.values()) {
            runs.add(run(run, s.labels, labelsAndNone));
        }
        List<AnnotationStateRecord> annotations = new ArrayList<>(s.annotations.size());
        for (AnnotationEntry a : s.annotations.values()) {
            annotations.add(new AnnotationStateRecord(a.annotatorId(), a.labels(), a.annotatedAt(), a.checked(),
                    a.source() == null ? null : RoutedAnnotations.sourceRecord(a.source()), a.task()));
        }
        return new DocumentStateRecord(s.documentId, s.task, s.labels, runs, annotations);
    }

    static DocumentState state(DocumentStateRecord r) {
        DocumentState s = new DocumentState();
        s.documentId = r.getDocumentId();
        s.task = r.getTask();
        s.labels = r.getLabels() == null ? null : List.copyOf(r.getLabels());
        List<String> labelsAndNone = withNone(s.labels);
        for (RunRecord runRecord : r.getRuns()) {
            RunState run = run(runRecord, s.labels, labelsAndNone);
            s.runs.put(DocumentState.runKey(run.model, run.runId), run);
        }
        for (AnnotationStateRecord a : r.getAnnotations()) {
            s.annotations.put(a.getAnnotatorId(), new AnnotationEntry(a.getAnnotatorId(), copy(a.getLabels()),
                    a.getAnnotatedAt(), a.getChecked(),
                    a.getSource() == null ? null : RoutedAnnotations.sourceRef(a.getSource()), a.getTask()));
        }
        return s;
    }

    private static RunRecord run(RunState run, List<String> labels, List<String> labelsAndNone) {
        List<StepRecord> steps = new ArrayList<>(run.steps.size());
        for (StepEntry step : run.steps.values()) {
            steps.add(new StepRecord(step.step(), step.stepsTotal(), step.generated(),
                    named(step.logits(), labelsAndNone), step.producedAt()));
        }
        GenerationEntry g = run.generation;
        UnaryEntry u = run.unary;
        BinaryEntry b = run.binary;
        Emitted e = run.emitted;
        return RunRecord.newBuilder()
                .setModel(run.model).setRunId(run.runId).setMethods(run.methods).setSteps(steps)
                .setGeneration(g == null ? null
                        : new GenerationStateRecord(g.parsedLabels(), g.stepsTotal(), g.producedAt(), g.rawOutput()))
                .setUnary(u == null ? null
                        : new UnaryStateRecord(doubles(u.reasonable()), doubles(u.unreasonable()), u.producedAt()))
                .setBinary(b == null ? null : new BinaryStateRecord(b.pairs().stream()
                        .map(p -> new PairRecord(p.a(), p.b(), p.logitA(), p.logitB())).toList(), b.producedAt()))
                .setEmitted(e == null ? null : new EmittedRecord(e.generationTime(), distribution(e.distribution()),
                        MetricStateRecords.alignment(e.alignment()), MetricStateRecords.spikiness(e.spikiness())))
                .setCalibrator(run.calibrator == null ? null : CalibrationRecords.state(run.calibrator))
                .build();
    }

    private static RunState run(RunRecord r, List<String> labels, List<String> labelsAndNone) {
        RunState run = new RunState(r.getModel(), r.getRunId());
        run.methods = copy(r.getMethods());
        for (StepRecord step : r.getSteps()) {
            run.steps.put(step.getStep(), new StepEntry(step.getStep(), step.getStepsTotal(),
                    step.getGeneratedLabel(), map(step.getLogits(), labelsAndNone), step.getProducedAt()));
        }
        GenerationStateRecord g = r.getGeneration();
        if (g != null) {
            run.generation = new GenerationEntry(copy(g.getParsedLabels()), g.getStepsTotal(), g.getProducedAt(),
                    g.getRawOutput());
        }
        UnaryStateRecord u = r.getUnary();
        if (u != null) {
            run.unary = new UnaryEntry(doubles(u.getReasonable()), doubles(u.getUnreasonable()), u.getProducedAt());
        }
        BinaryStateRecord b = r.getBinary();
        if (b != null) {
            run.binary = new BinaryEntry(b.getPairs().stream()
                    .map(p -> new BinaryEntry.Pair(p.getA(), p.getB(), p.getLogitA(), p.getLogitB())).toList(),
                    b.getProducedAt());
        }
        EmittedRecord e = r.getEmitted();
        if (e != null) {
            run.emitted = new Emitted(e.getGenerationTime(), distribution(e.getDistribution()),
                    MetricStateRecords.alignment(e.getAlignment()), MetricStateRecords.spikiness(e.getSpikiness()));
        }
        run.calibrator = r.getCalibrator() == null ? null : CalibrationRecords.state(r.getCalibrator());
        return run;
    }

    private static DistributionStateRecord distribution(DistributionView d) {
        List<MethodStateRecord> methods = new ArrayList<>(d.methods().size());
        d.methods().forEach((name, m) -> methods.add(new MethodStateRecord(name, named(m.distribution(), d.labels()),
                m.predicted(), m.nll(), m.l1(), m.exampleF1())));
        return new DistributionStateRecord(d.documentId(), d.task(), d.model(), d.runId(), d.labels(),
                named(d.human(), d.labels()), d.annotators(), methods, d.updatedAt(), d.version());
    }

    private static DistributionView distribution(DistributionStateRecord r) {
        List<String> labels = copy(r.getLabels());
        Map<String, MethodView> methods = new LinkedHashMap<>();
        for (MethodStateRecord m : r.getMethods()) {
            methods.put(m.getName(), new MethodView(map(m.getDistribution(), labels), copy(m.getPredicted()),
                    m.getNll(), m.getL1(), m.getExampleF1()));
        }
        return new DistributionView(r.getDocumentId(), r.getTask(), r.getModel(), r.getRunId(), labels,
                map(r.getHuman(), labels), r.getAnnotators(), methods, r.getUpdatedAt(), r.getVersion());
    }

    /**
     * A map whose keys are exactly the given names (every value present) is written as its values in the names'
     * order and no names; any other map with its own keys, in its own order.
     */
    private static NamedDoublesRecord named(Map<String, Double> map, List<String> names) {
        if (map == null) {
            return null;
        }
        boolean overNames = names != null && map.size() == names.size()
                && names.stream().allMatch(n -> map.get(n) != null);
        List<String> keys = overNames ? names : new ArrayList<>(map.keySet());
        List<Double> values = new ArrayList<>(keys.size());
        for (String key : keys) {
            values.add(map.get(key));
        }
        return new NamedDoublesRecord(overNames ? null : keys, values);
    }

    private static Map<String, Double> map(NamedDoublesRecord r, List<String> names) {
        if (r == null) {
            return null;
        }
        List<String> keys = r.getNames() != null ? r.getNames() : names;
        if (keys == null || keys.size() != r.getValues().size()) {
            throw new IllegalStateException("a map over the document's labels has " + r.getValues().size()
                    + " values for " + (keys == null ? "no labels" : keys.size() + " labels"));
        }
        Map<String, Double> map = new LinkedHashMap<>();
        for (int i = 0; i < keys.size(); i++) {
            map.put(keys.get(i), r.getValues().get(i));
        }
        return map;
    }

    private static List<String> withNone(List<String> labels) {
        if (labels == null) {
            return null;
        }
        List<String> names = new ArrayList<>(labels.size() + 1);
        names.addAll(labels);
        names.add(Labels.NONE);
        return names;
    }

    /** Lists as decoded are Avro's own arrays; the state keeps plain immutable lists. */
    private static List<String> copy(List<String> list) {
        return list == null ? null : List.copyOf(list);
    }

    private static List<Double> doubles(double[] values) {
        List<Double> list = new ArrayList<>(values.length);
        for (double v : values) {
            list.add(v);
        }
        return list;
    }

    private static double[] doubles(List<Double> values) {
        double[] array = new double[values.size()];
        for (int i = 0; i < array.length; i++) {
            array[i] = values.get(i);
        }
        return array;
    }
}

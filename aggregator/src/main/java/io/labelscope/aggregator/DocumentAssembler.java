package io.labelscope.aggregator;

import io.labelscope.aggregator.state.AnnotationEntry;
import io.labelscope.aggregator.state.BinaryEntry;
import io.labelscope.aggregator.state.DocumentState;
import io.labelscope.aggregator.state.Emitted;
import io.labelscope.aggregator.state.GenerationEntry;
import io.labelscope.aggregator.state.RunState;
import io.labelscope.aggregator.state.SourceRef;
import io.labelscope.aggregator.state.StepEntry;
import io.labelscope.aggregator.state.UnaryEntry;
import io.labelscope.aggregator.calibration.CalibrationEvidence;
import io.labelscope.aggregator.calibration.CalibrationRecords;
import io.labelscope.aggregator.calibration.Calibrations;
import io.labelscope.math.Calibration;
import io.labelscope.math.Conventions;
import io.labelscope.schemas.Calibrator;
import io.labelscope.schemas.DocumentDistribution;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import io.labelscope.math.HumanDistribution;
import io.labelscope.math.InvalidInputException;
import io.labelscope.math.Labels;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.PairLogits;
import io.labelscope.schemas.UnaryLogits;
import io.labelscope.schemas.UnaryProbes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

import io.labelscope.aggregator.state.SourceRef;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Collects each document's steps, generations, unary/binary probes and annotations (state store {@link #STORE})
 * and emits its distributions once a run is complete, again whenever its annotations change, and the matching
 * changes to the task/model metrics. Scoring is {@link DocumentScoring} (on paper-math's DocumentAnalysis); this
 * class keeps the state and sends what it returns.
 *
 * <ul>
 *   <li>A run (document, model, run id) is complete when every method in its method set has arrived, in any
 *       order (see {@link RunState#complete()}); a re-sent record replaces the earlier one. A run without
 *       {@code generate} emits only its breakdowns and adds nothing to the spikiness statistics.</li>
 *   <li>Annotations: one per annotator id, a re-sent one replaces the earlier one. They are checked against the
 *       document's task and label set as soon as these are known (they travel with steps, generations and
 *       probes; an annotation that comes first is held until then); one of another task
 *       ({@code task_mismatch}) or with an unknown label ({@code unknown_label}) is dead-lettered and the
 *       annotator's previous annotation, if any, stays.</li>
 *   <li>Every emission carries the run's previous metric contribution subtracted and the new one added, so the
 *       all-time metrics count each document once with its current annotations.</li>
 *   <li>Metric changes are not forwarded one by one: they are summed per task/model and time bucket and
 *       forwarded once per commit interval ({@link MetricChangeBatcher}).</li>
 * </ul>
 */
final class DocumentAssembler implements Processor<String, DocumentEvent, String, Assembled> {

    static final String STORE = "documents";

    private final Conventions conventions;
    private final long bucketMs;
    private ProcessorContext<String, Assembled> context;
    private KeyValueStore<String, DocumentState> store;
    private MetricChangeBatcher batcher;
    private KeyValueStore<String, ValueAndTimestamp<Calibrator>> calibrations;

    /**
     * @param bucketMs the time bucket metric changes are summed in before they are sent (see
     *                 {@link MetricChangeBatcher})
     */
    DocumentAssembler(Conventions conventions, long bucketMs) {
        if (bucketMs <= 0) {
            throw new IllegalArgumentException("metric bucket must be positive: " + bucketMs + " ms");
        }
        this.conventions = conventions;
        this.bucketMs = bucketMs;
    }

    @Override
    public void init(ProcessorContext<String, Assembled> context) {
        this.context = context;
        this.store = context.getStateStore(STORE);
        this.batcher = new MetricChangeBatcher(context, bucketMs);
        this.calibrations = context.getStateStore(Calibrations.STORE);
    }

    @Override
    public void process(Record<String, DocumentEvent> record) {
        DocumentEvent event = record.value();
        if (event instanceof DocumentEvent.Rejected r) {
            context.forward(record.withValue(new Assembled.Rejected(r.deadLetter())));
            return;
        }
        String documentId = record.key();
        DocumentState state = store.get(documentId);
        if (state == null) {
            state = new DocumentState();
            state.documentId = documentId;
        }
        long now = record.timestamp();
        if (event instanceof DocumentEvent.StepArrived s) {
            onStep(state, s, now);
        } else if (event instanceof DocumentEvent.GenerationArrived g) {
            onGeneration(state, g, now);
        } else if (event instanceof DocumentEvent.UnaryArrived u) {
            onUnary(state, u, now);
        } else if (event instanceof DocumentEvent.BinaryArrived b) {
            onBinary(state, b, now);
        } else if (event instanceof DocumentEvent.AnnotationArrived a) {
            onAnnotation(state, a, now);
        }
        store.put(documentId, state);
    }

    private void onStep(DocumentState state, DocumentEvent.StepArrived event, long now) {
        LabelStep s = event.step();
        if (!adoptLabelSet(state, s.getTask(), s.getLabels(), event.source(), now)) {
            return;
        }
        Map<String, Double> logits = new HashMap<>();
        s.getLogits().forEach((k, v) -> logits.put(Labels.normalize(k), v));
        RunState run = state.run(s.getModel(), s.getRunId());
        run.steps.put(s.getStep(), new StepEntry(s.getStep(), s.getStepsTotal(), s.getGeneratedLabel(), logits,
                s.getProducedAt().toEpochMilli()));
        emitIfComplete(state, run, now);
    }

    private void onGeneration(DocumentState state, DocumentEvent.GenerationArrived event, long now) {
        Generation g = event.generation();
        if (!adoptLabelSet(state, g.getTask(), g.getLabels(), event.source(), now)) {
            return;
        }
        RunState run = state.run(g.getModel(), g.getRunId());
        run.methods = List.copyOf(g.getMethods());
        run.generation = new GenerationEntry(List.copyOf(g.getParsedLabels()), g.getStepsTotal(),
                g.getProducedAt().toEpochMilli(), g.getRawOutput());
        emitIfComplete(state, run, now);
    }

    private void onUnary(DocumentState state, DocumentEvent.UnaryArrived event, long now) {
        UnaryProbes u = event.probes();
        if (!adoptLabelSet(state, u.getTask(), u.getLabels(), event.source(), now)) {
            return;
        }
        Map<String, UnaryLogits> byLabel = new HashMap<>();
        u.getProbes().forEach((k, v) -> byLabel.put(Labels.normalize(k), v));
        int items = state.labels.size() + 1;
        double[] reasonable = new double[items];
        double[] unreasonable = new double[items];
        for (int k = 0; k < items; k++) {
            UnaryLogits z = byLabel.get(Labels.nameAt(state.labels, k));
            reasonable[k] = z.getReasonable();
            unreasonable[k] = z.getUnreasonable();
        }
        RunState run = state.run(u.getModel(), u.getRunId());
        run.methods = List.copyOf(u.getMethods());
        run.unary = new UnaryEntry(reasonable, unreasonable, u.getProducedAt().toEpochMilli());
        emitIfComplete(state, run, now);
    }

    private void onBinary(DocumentState state, DocumentEvent.BinaryArrived event, long now) {
        BinaryProbes b = event.probes();
        if (!adoptLabelSet(state, b.getTask(), b.getLabels(), event.source(), now)) {
            return;
        }
        List<BinaryEntry.Pair> pairs = new ArrayList<>(b.getPairs().size());
        for (PairLogits p : b.getPairs()) {
            pairs.add(new BinaryEntry.Pair(Labels.indexWithNone(state.labels, Labels.normalize(p.getA())),
                    Labels.indexWithNone(state.labels, Labels.normalize(p.getB())), p.getLogitA(), p.getLogitB()));
        }
        RunState run = state.run(b.getModel(), b.getRunId());
        run.methods = List.copyOf(b.getMethods());
        run.binary = new BinaryEntry(pairs, b.getProducedAt().toEpochMilli());
        emitIfComplete(state, run, now);
    }

    private void onAnnotation(DocumentState state, DocumentEvent.AnnotationArrived event, long now) {
        Annotation a = event.annotation();
        if (state.task == null) {
            state.task = a.getTask(); // provisional (shown by the REST API); the first worker record fixes it
        }
        // The task and label set are known once a step, generation or probe record has carried them.
        boolean checked = state.labels != null;
        if (checked && rejectAnnotation(state, a.getTask(), a.getLabels(), event.source(), now)) {
            return;
        }
        AnnotationEntry previous = state.annotations.get(a.getAnnotatorId());
        // The original record and its task are kept only while it may still have to be dead-lettered.
        AnnotationEntry entry = new AnnotationEntry(a.getAnnotatorId(), List.copyOf(a.getLabels()),
                a.getAnnotatedAt().toEpochMilli(), checked, checked ? null : event.source(),
                checked ? null : a.getTask());
        state.annotations.put(a.getAnnotatorId(), entry);
        if (previous != null && previous.checked() && sameLabels(state, previous.labels(), entry.labels())) {
            return; // the same vote again: H is unchanged, nothing to re-emit
        }
        for (RunState run : state.runs.values()) {
            emitIfComplete(state, run, now);
        }
    }

    /**
     * The first step, generation or probe record fixes the document's task and label set; a later record with a
     * different set is rejected (its numbers would not be comparable). Annotations that arrived before they were
     * known are checked now (task, then labels) and dead-lettered then if they do not fit.
     */
    private boolean adoptLabelSet(DocumentState state, String task, List<String> rawLabels,
                                  SourceRef source, long now) {
        List<String> labels = Labels.normalizeLabelSet(rawLabels);
        if (state.labels == null) {
            state.labels = labels;
            state.task = task;
            checkEarlyAnnotations(state, now);
            return true;
        }
        if (!state.labels.equals(labels)) {
            context.forward(new Record<>(source.key(), new Assembled.Rejected(InputDecoder.reject(source,
                    "label_set_mismatch", "label set " + labels + " differs from the set " + state.labels
                            + " this document's earlier records carried").deadLetter()), now));
            return false;
        }
        return true;
    }

    private void checkEarlyAnnotations(DocumentState state, long now) {
        Iterator<Map.Entry<String, AnnotationEntry>> it = state.annotations.entrySet().iterator();
        Map<String, AnnotationEntry> accepted = new TreeMap<>();
        while (it.hasNext()) {
            AnnotationEntry a = it.next().getValue();
            if (!a.checked() && !rejectAnnotation(state, a.task(), a.labels(), a.source(), now)) {
                accepted.put(a.annotatorId(), new AnnotationEntry(a.annotatorId(), a.labels(), a.annotatedAt(),
                        true, null, null));
            } else if (a.checked()) {
                accepted.put(a.annotatorId(), a);
            }
        }
        state.annotations = accepted;
    }

    /**
     * Dead-letters an annotation of another task than the document's ({@code task_mismatch}; checked first: the
     * labels of another task mean nothing here) or naming a label outside the set ({@code unknown_label}); true
     * when it did. A null task (an annotation held in state written before the task was kept) is not checked.
     */
    private boolean rejectAnnotation(DocumentState state, String task, List<String> labels,
                                     SourceRef source, long now) {
        if (task != null && !task.equals(state.task)) {
            context.forward(new Record<>(source.key(), new Assembled.Rejected(InputDecoder.reject(source,
                    "task_mismatch", "annotation is for task '" + task + "', but document '" + state.documentId
                            + "' belongs to task '" + state.task + "' (from its label steps, generation or probes)")
                    .deadLetter()), now));
            return true;
        }
        Set<String> unknown = HumanDistribution.unknownLabels(state.labels, labels);
        if (unknown.isEmpty()) {
            return false;
        }
        context.forward(new Record<>(source.key(), new Assembled.Rejected(InputDecoder.reject(source,
                "unknown_label", "annotation names " + unknown + ", not labels of task " + state.task + " "
                        + state.labels).deadLetter()), now));
        return true;
    }

    /** Same vote: the same labels of the set, whatever the spelling, order or repeats. */
    private static boolean sameLabels(DocumentState state, List<String> a, List<String> b) {
        return Arrays.equals(HumanDistribution.of(state.labels, List.of(a)),
                HumanDistribution.of(state.labels, List.of(b)));
    }

    /**
     * Once a run is complete, and again whenever it changes: scores it ({@link DocumentScoring}), sends its
     * distribution and adds its metric changes to the pending batch. A duplicate that changes nothing sends
     * nothing.
     */
    private void emitIfComplete(DocumentState state, RunState run, long now) {
        if (!run.complete()) {
            return;
        }
        if (run.calibrator == null && run.has(RunState.GENERATE)) {
            // The calibrator current as the run completes, kept for its re-emissions: fitted on other runs only.
            run.calibrator = Calibrations.current(calibrations, state.task, run.model);
        }
        Emitted scored;
        try {
            scored = DocumentScoring.score(state, run, conventions, now);
        } catch (InvalidInputException e) {
            // Cannot happen for checked input; if it does, say so on the dead letters instead of stopping.
            context.forward(new Record<>(state.documentId, new Assembled.Rejected(InputDecoder.reject(
                    new SourceRef("(state)", -1, -1, state.documentId, null),
                    "invalid", e.getMessage()).deadLetter()), now));
            return;
        }
        if (DocumentScoring.unchanged(run.emitted, scored)) {
            return; // a duplicate changed nothing: no new version, no metric change
        }
        DocumentDistribution distribution = AvroRecords.distribution(scored.distribution());
        distribution.setCalibrator(run.calibrator == null ? null
                : CalibrationRecords.published(state.task, run.model, run.calibrator));
        context.forward(new Record<>(state.documentId, new Assembled.Distribution(distribution), now));
        String taskModel = Keys.taskModel(state.task, run.model);
        for (Assembled.PendingChange change : DocumentScoring.changes(run.emitted, scored)) {
            batcher.add(taskModel, change);
        }
        Calibration.Evidence evidence = CalibrationEvidence.change(run.emitted, scored, conventions.nllClip());
        if (evidence != null) {
            batcher.add(taskModel, new Assembled.PendingChange(scored.generationTime(),
                    new Assembled.MetricsChange(null, null, evidence)));
        }
        run.emitted = scored;
    }
}

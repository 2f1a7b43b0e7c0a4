package io.labelscope.aggregator.document;

import io.labelscope.aggregator.Keys;
import io.labelscope.aggregator.input.DocumentEvent;
import io.labelscope.aggregator.input.InputChecks;
import io.labelscope.aggregator.input.Rejections;
import io.labelscope.aggregator.metrics.AvroRecords;
import io.labelscope.aggregator.metrics.MetricChangeBatcher;

import io.labelscope.aggregator.avro.AnnotationStateRecord;
import io.labelscope.aggregator.avro.BinaryStateRecord;
import io.labelscope.aggregator.avro.DocumentStateRecord;
import io.labelscope.aggregator.avro.EmittedRecord;
import io.labelscope.aggregator.avro.GenerationStateRecord;
import io.labelscope.aggregator.avro.PairRecord;
import io.labelscope.aggregator.avro.RunRecord;
import io.labelscope.aggregator.avro.SourceRecord;
import io.labelscope.aggregator.avro.StepRecord;
import io.labelscope.aggregator.avro.UnaryStateRecord;
import io.labelscope.math.Conventions;
import io.labelscope.math.HumanDistribution;
import io.labelscope.math.InvalidInputException;
import io.labelscope.math.Labels;
import io.labelscope.schemas.Annotation;
import io.labelscope.schemas.BinaryProbes;
import io.labelscope.schemas.Configuration;
import io.labelscope.schemas.Generation;
import io.labelscope.schemas.LabelStep;
import io.labelscope.schemas.PairLogits;
import io.labelscope.schemas.UnaryLogits;
import io.labelscope.schemas.UnaryProbes;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects each document's steps, generations, unary/binary probes and annotations (state store {@link #STORE})
 * and emits its distributions once a run is complete, again whenever its annotations change, and the matching
 * changes to the task/model metrics. Scoring is {@link DocumentScoring} (on paper-math's DocumentAnalysis); this
 * class keeps the state and sends what it returns.
 *
 * <ul>
 *   <li>A run (document, model, run id) is complete when every method in its method set has arrived, in any
 *       order (see {@link DocumentStates#complete}); a re-sent record replaces the earlier one. A run without
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
public final class DocumentAssembler implements Processor<String, DocumentEvent, String, Assembled> {

    public static final String STORE = "documents";

    private final Conventions conventions;
    private final long bucketMs;
    private ProcessorContext<String, Assembled> context;
    private KeyValueStore<String, DocumentStateRecord> store;
    private MetricChangeBatcher batcher;

    /**
     * @param bucketMs the time bucket metric changes are summed in before they are sent (see
     *                 {@link MetricChangeBatcher})
     */
    public DocumentAssembler(Conventions conventions, long bucketMs) {
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
    }

    @Override
    public void process(Record<String, DocumentEvent> record) {
        DocumentEvent event = record.value();
        if (event instanceof DocumentEvent.Rejected r) {
            context.forward(record.withValue(new Assembled.Rejected(r.deadLetter())));
            return;
        }
        String documentId = record.key();
        DocumentStateRecord state = store.get(documentId);
        if (state == null) {
            state = DocumentStates.empty(documentId);
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

    private void onStep(DocumentStateRecord state, DocumentEvent.StepArrived event, long now) {
        LabelStep s = event.step();
        if (!adoptLabelSet(state, s.getTask(), s.getLabels(), event.source(), now)) {
            return;
        }
        // Kept as values over the labels then none (the decoder checked there is one for each, nothing else).
        Map<String, Double> byName = new HashMap<>();
        s.getLogits().forEach((k, v) -> byName.put(Labels.normalize(k), v));
        List<String> labels = state.getLabels();
        double[] logits = new double[labels.size() + 1];
        for (int k = 0; k < logits.length; k++) {
            logits[k] = byName.get(Labels.nameAt(labels, k));
        }
        RunRecord run = DocumentStates.run(state, s.getModel(), s.getRunId());
        run.setTaskVersion(s.getTaskVersion());
        DocumentStates.putStep(run, new StepRecord(s.getStep(), s.getStepsTotal(), s.getGeneratedLabel(),
                NamedDoubles.of(logits), s.getProducedAt().toEpochMilli()));
        emitIfComplete(state, run, now);
    }

    private void onGeneration(DocumentStateRecord state, DocumentEvent.GenerationArrived event, long now) {
        Generation g = event.generation();
        if (!adoptLabelSet(state, g.getTask(), g.getLabels(), event.source(), now)) {
            return;
        }
        RunRecord run = DocumentStates.run(state, g.getModel(), g.getRunId());
        run.setTaskVersion(g.getTaskVersion());
        run.setMethods(List.copyOf(g.getMethods()));
        run.setGeneration(new GenerationStateRecord(List.copyOf(g.getParsedLabels()), g.getStepsTotal(),
                g.getProducedAt().toEpochMilli(), g.getRawOutput()));
        emitIfComplete(state, run, now);
    }

    private void onUnary(DocumentStateRecord state, DocumentEvent.UnaryArrived event, long now) {
        UnaryProbes u = event.probes();
        if (!adoptLabelSet(state, u.getTask(), u.getLabels(), event.source(), now)) {
            return;
        }
        Map<String, UnaryLogits> byLabel = new HashMap<>();
        u.getProbes().forEach((k, v) -> byLabel.put(Labels.normalize(k), v));
        List<String> labels = state.getLabels();
        int items = labels.size() + 1;
        List<Double> reasonable = new ArrayList<>(items);
        List<Double> unreasonable = new ArrayList<>(items);
        for (int k = 0; k < items; k++) {
            UnaryLogits z = byLabel.get(Labels.nameAt(labels, k));
            reasonable.add(z.getReasonable());
            unreasonable.add(z.getUnreasonable());
        }
        RunRecord run = DocumentStates.run(state, u.getModel(), u.getRunId());
        run.setTaskVersion(u.getTaskVersion());
        run.setMethods(List.copyOf(u.getMethods()));
        run.setUnary(new UnaryStateRecord(reasonable, unreasonable, u.getProducedAt().toEpochMilli()));
        emitIfComplete(state, run, now);
    }

    private void onBinary(DocumentStateRecord state, DocumentEvent.BinaryArrived event, long now) {
        BinaryProbes b = event.probes();
        if (!adoptLabelSet(state, b.getTask(), b.getLabels(), event.source(), now)) {
            return;
        }
        List<String> labels = state.getLabels();
        List<PairRecord> pairs = new ArrayList<>(b.getPairs().size());
        for (PairLogits p : b.getPairs()) {
            pairs.add(new PairRecord(Labels.indexWithNone(labels, Labels.normalize(p.getA())),
                    Labels.indexWithNone(labels, Labels.normalize(p.getB())), p.getLogitA(), p.getLogitB()));
        }
        RunRecord run = DocumentStates.run(state, b.getModel(), b.getRunId());
        run.setTaskVersion(b.getTaskVersion());
        run.setMethods(List.copyOf(b.getMethods()));
        run.setBinary(new BinaryStateRecord(pairs, b.getProducedAt().toEpochMilli()));
        emitIfComplete(state, run, now);
    }

    private void onAnnotation(DocumentStateRecord state, DocumentEvent.AnnotationArrived event, long now) {
        Annotation a = event.annotation();
        if (state.getTask() == null) {
            state.setTask(a.getTask()); // provisional (shown by the REST API); the first worker record fixes it
        }
        // The task and label set are known once a step, generation or probe record has carried them.
        boolean checked = state.getLabels() != null;
        if (checked && rejectAnnotation(state, a.getTask(), a.getLabels(), event.source(), now)) {
            return;
        }
        AnnotationStateRecord previous = DocumentStates.annotation(state, a.getAnnotatorId());
        // The original record and its task are kept only while it may still have to be dead-lettered.
        AnnotationStateRecord entry = new AnnotationStateRecord(a.getAnnotatorId(), List.copyOf(a.getLabels()),
                a.getAnnotatedAt().toEpochMilli(), checked, checked ? null : event.source(),
                checked ? null : a.getTask());
        DocumentStates.putAnnotation(state, entry);
        if (previous != null && previous.getChecked() && sameLabels(state, previous.getLabels(), entry.getLabels())) {
            return; // the same vote again: H is unchanged, nothing to re-emit
        }
        for (RunRecord run : state.getRuns()) {
            emitIfComplete(state, run, now);
        }
    }

    /**
     * The first step, generation or probe record fixes the document's task and label set; a later record with a
     * different set is rejected (its numbers would not be comparable). Annotations that arrived before they were
     * known are checked now (task, then labels) and dead-lettered then if they do not fit.
     */
    private boolean adoptLabelSet(DocumentStateRecord state, String task, List<String> rawLabels,
                                  SourceRecord source, long now) {
        List<String> labels = Labels.normalizeLabelSet(rawLabels);
        if (state.getLabels() == null) {
            state.setLabels(labels);
            state.setTask(task);
            checkEarlyAnnotations(state, now);
            return true;
        }
        return !rejected(source, InputChecks.sameLabelSet(state.getLabels(), labels), now);
    }

    /** Sends the record to the dead letters if a check refused it; true when it did. */
    private boolean rejected(SourceRecord source, Rejections.Rejection rejection, long now) {
        if (rejection == null) {
            return false;
        }
        context.forward(new Record<>(source.getKey(), new Assembled.Rejected(Rejections.of(source, rejection)), now));
        return true;
    }

    private void checkEarlyAnnotations(DocumentStateRecord state, long now) {
        List<AnnotationStateRecord> accepted = new ArrayList<>(state.getAnnotations().size());
        for (AnnotationStateRecord a : state.getAnnotations()) {
            if (!a.getChecked() && !rejectAnnotation(state, a.getTask(), a.getLabels(), a.getSource(), now)) {
                accepted.add(new AnnotationStateRecord(a.getAnnotatorId(), a.getLabels(), a.getAnnotatedAt(),
                        true, null, null));
            } else if (a.getChecked()) {
                accepted.add(a);
            }
        }
        state.setAnnotations(accepted);
    }

    /** Dead-letters an annotation that does not fit its document ({@link InputChecks#annotationFits}); true when it did. */
    private boolean rejectAnnotation(DocumentStateRecord state, String task, List<String> labels,
                                     SourceRecord source, long now) {
        return rejected(source, InputChecks.annotationFits(state.getDocumentId(), state.getTask(),
                state.getLabels(), task, labels), now);
    }

    /** Same vote: the same labels of the set, whatever the spelling, order or repeats. */
    private static boolean sameLabels(DocumentStateRecord state, List<String> a, List<String> b) {
        return Arrays.equals(HumanDistribution.of(state.getLabels(), List.of(a)),
                HumanDistribution.of(state.getLabels(), List.of(b)));
    }

    /**
     * Once a run is complete, and again whenever it changes: scores it ({@link DocumentScoring}), sends its
     * distribution and adds its metric changes to the pending batch. A duplicate that changes nothing sends
     * nothing.
     */
    private void emitIfComplete(DocumentStateRecord state, RunRecord run, long now) {
        if (!DocumentStates.complete(run)) {
            return;
        }
        EmittedRecord scored;
        try {
            scored = DocumentScoring.score(state, run, conventions, now);
        } catch (InvalidInputException e) {
            // Cannot happen for checked input; if it does, say so on the dead letters instead of stopping.
            context.forward(new Record<>(state.getDocumentId(), new Assembled.Rejected(Rejections.of(
                    new SourceRecord("(state)", -1, -1L, state.getDocumentId(), null),
                    Rejections.Reason.INVALID, e.getMessage())), now));
            return;
        }
        if (DocumentScoring.unchanged(run.getEmitted(), scored)) {
            return; // a duplicate changed nothing: no new version, no metric change
        }
        context.forward(new Record<>(state.getDocumentId(),
                new Assembled.Distribution(AvroRecords.distribution(scored.getDistribution())), now));
        // Per configuration (model and task version): two prompts on the same model never merge.
        String taskModel = Keys.taskModel(state.getTask(), Configuration.of(run.getModel(), run.getTaskVersion()));
        for (Assembled.PendingChange change : DocumentScoring.changes(run.getEmitted(), scored)) {
            batcher.add(taskModel, change);
        }
        run.setEmitted(scored);
    }
}
